import DeepCluster
import Testing

@Suite struct LearningRateScheduleTests {
    @Test func constantIsTheBaseRate() {
        let s = LearningRateSchedule(kind: .constant, base: 0.05, warmupEpochs: 3, finalRate: 0.001, epochs: 10)
        #expect(s.rate(epoch: 7, step: 3, stepsPerEpoch: 10) == 0.05)
    }

    @Test func warmupThenCosine() {
        let s = LearningRateSchedule(kind: .cosine, base: 0.4, warmupEpochs: 2, finalRate: 0.01, epochs: 10)
        #expect(s.rate(epoch: 0, step: 0, stepsPerEpoch: 100) == 0)
        #expect(abs(s.rate(epoch: 1, step: 0, stepsPerEpoch: 100) - 0.2) < 1e-6)       // half-way through the warm-up
        #expect(abs(s.rate(epoch: 2, step: 0, stepsPerEpoch: 100) - 0.4) < 1e-6)       // the peak
        #expect(abs(s.rate(epoch: 6, step: 0, stepsPerEpoch: 100) - 0.205) < 1e-5)     // half-way down: (0.4 + 0.01) / 2
        #expect(abs(s.rate(epoch: 10, step: 0, stepsPerEpoch: 100) - 0.01) < 1e-6)
        var previous = Float.infinity
        for e in 2..<10 { for st in stride(from: 0, to: 100, by: 25) {
            let r = s.rate(epoch: e, step: st, stepsPerEpoch: 100)
            #expect(r <= previous); previous = r
        } }
    }
}
