import NN
import Tensor
import Testing

/// Training on Winograd's tiles (`--winograd-training`): the forward, ∂x (the forward's code on the
/// turned filters) and ∂w, ∂b (the transposed transforms, summed over tiles in the transformed domain)
/// against the im2col + sgemm reference on the same weights, for every shape of the inference tests.
@Suite(.serialized) struct WinogradTrainingTests {
    /// Forward and backward of one case on both layers; the relative errors of y, ∂x, ∂w and ∂b.
    static func errors(_ c: WinogradConvolutionTests.Case, seed: UInt64) -> (kernel: String, errors: [Double]) {
        let (r, w, keep) = WinogradConvolutionTests.pair(c)
        w.winograd = true
        let x = randomTensor(c.input, seed: seed)
        let yr = r.forward(x, mode: .train).array.map(Double.init)
        let yw = w.forward(x, mode: .train).array.map(Double.init)
        let kernel = w.lastKernelName
        let dy = randomTensor(r.outputShape(c.input), seed: seed + 1)
        let dxr = r.backward(dy, needInputGradient: true)!.array.map(Double.init)
        let dxw = w.backward(dy, needInputGradient: true)!.array.map(Double.init)
        // The reference's gradients are not zero (an error of 0 against 0 would prove nothing).
        #expect((0..<2).allSatisfy { j in Array(keep[0].gradients[j]).contains { $0 != 0 } })
        let gradients = (0..<2).map { j in
            relativeError(Array(keep[1].gradients[j]).map(Double.init), Array(keep[0].gradients[j]).map(Double.init))
        }
        return (kernel, [relativeError(yw, yr), relativeError(dxw, dxr)] + gradients)
    }

    @Test(arguments: WinogradConvolutionTests.cases) func gradientsMatchTheReference(_ c: WinogradConvolutionTests.Case) {
        let (kernel, e) = Self.errors(c, seed: 51)
        #expect(kernel == (c.kernel == 3 ? "winograd:f4x3" : "winograd:f2x5"), "ran \(kernel)")
        // y, ∂x, ∂w, ∂b; ∂w sums over every tile of every image, so its rounding grows a little.
        #expect(e[0] < 1e-5 && e[1] < 1e-5 && e[2] < 5e-5 && e[3] < 1e-5, "relative errors y, ∂x, ∂w, ∂b: \(e)")
    }

    /// The plain-C paths (CPUs without AVX2 and FMA: the products, the windows' gather, every transform) on
    /// every case, forward and backward, within the same bounds of the reference.
    @Test(arguments: WinogradConvolutionTests.cases) func plainCPathsMatchTheReference(_ c: WinogradConvolutionTests.Case) {
        let (kernel, e) = WinogradPlainC.run { Self.errors(c, seed: 61) }
        #expect(kernel == (c.kernel == 3 ? "winograd:f4x3" : "winograd:f2x5"), "ran \(kernel)")
        #expect(e[0] < 1e-5 && e[1] < 1e-5 && e[2] < 5e-5 && e[3] < 1e-5, "relative errors y, ∂x, ∂w, ∂b: \(e)")
    }

    /// ∂w's sums over chunks of three images (3 + 3 + 3 + 2), on one, two and three threads.
    @Test func weightGradientsSummedOverChunksAreTheSame() {
        for threads in [1, 2, 3] {
            let (kernel, e) = WinogradChunking.$taskBudget.withValue(36 * 128 * 4 * 3) {
                Parallel.$taskThreads.withValue(threads) {
                    #expect(Parallel.threads == threads && WinogradChunking.budget == 36 * 128 * 4 * 3)
                    return Self.errors(.init(inChannels: 64, outChannels: 128, padding: 1, input: [64, 11, 7, 7]), seed: 53)
                }
            }
            #expect(kernel == "winograd:f4x3")
            #expect(e[0] < 1e-5 && e[1] < 1e-5 && e[2] < 5e-5 && e[3] < 1e-5, "\(threads) threads: relative errors y, ∂x, ∂w, ∂b: \(e)")
        }
    }

    @Test func gradientsAccumulateOverTwoSteps() {
        let c = WinogradConvolutionTests.cases[5]
        let (r, w, keep) = WinogradConvolutionTests.pair(c)
        w.winograd = true
        for step in 0..<2 {
            let x = randomTensor(c.input, seed: 60 + UInt64(step)), dy = randomTensor(r.outputShape(c.input), seed: 70 + UInt64(step))
            _ = r.forward(x, mode: .train); _ = w.forward(x, mode: .train)
            _ = r.backward(dy, needInputGradient: false); _ = w.backward(dy, needInputGradient: false)
        }
        #expect(w.lastKernelName == "winograd:f2x5")
        let e = relativeError(Array(keep[1].gradients[0]).map(Double.init), Array(keep[0].gradients[0]).map(Double.init))
        #expect(e < 5e-5, "∂w after two steps: \(e)")
    }
}
