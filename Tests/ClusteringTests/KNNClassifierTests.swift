@testable import Clustering
import Foundation
import Testing

@Suite struct KNNClassifierTests {
    /// Plain loops: every query against every bank row, the k most similar (ties to the lower index), the weighted vote.
    func naive(_ bank: [Float], _ bl: [Int32], _ q: [Float], _ ql: [Int32], d: Int, k: Int, t: Float) -> Double {
        func unit(_ v: ArraySlice<Float>) -> [Float] { let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot(); return v.map { n > 0 ? $0 / n : 0 } }
        let b = (0..<bl.count).map { unit(bank[($0 * d)..<(($0 + 1) * d)]) }
        let classes = Int(bl.max()!) + 1
        var correct = 0
        for i in 0..<ql.count {
            let x = unit(q[(i * d)..<((i + 1) * d)])
            let sims = b.map { row in zip(row, x).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
            let top = sims.indices.sorted { sims[$0] > sims[$1] || (sims[$0] == sims[$1] && $0 < $1) }.prefix(k)
            var votes = [Double](repeating: 0, count: classes)
            for j in top { votes[Int(bl[j])] += Double(exp(sims[j] / t)) }
            if votes.indices.max(by: { votes[$0] < votes[$1] || (votes[$0] == votes[$1] && $0 > $1) }) == Int(ql[i]) { correct += 1 }
        }
        return Double(correct) / Double(ql.count)
    }

    @Test func matchesPlainLoops() throws {
        var state: UInt64 = 5
        func next() -> Float { state = state &* 6364136223846793005 &+ 1442695040888963407; return Float(state >> 40) / Float(1 << 24) - 0.5 }
        let d = 8, classes = 4
        for (n, m, k) in [(300, 120, 20), (5000, 200, 200), (50, 30, 200)] {
            let bl = (0..<n).map { Int32($0 % classes) }, ql = (0..<m).map { Int32(($0 * 7) % classes) }
            // Each class leans along its own axis, with noise, so the vote is neither certain nor random.
            let bank = (0..<(n * d)).map { i in next() + (i % d == Int(bl[i / d]) ? 0.4 : 0) }
            let q = (0..<(m * d)).map { i in next() + (i % d == Int(ql[i / d]) ? 0.4 : 0) }
            let got = try KNNClassifier.top1(bank: bank, bankLabels: bl, queries: q, queryLabels: ql, dimension: d, k: k, communicator: nil)
            let want = naive(bank, bl, q, ql, d: d, k: min(k, n), t: 0.07)
            #expect(abs(got - want) < 1e-12, "n \(n) k \(k): \(got) against \(want)")
            #expect(got > 1.0 / Double(classes) + 0.1)
        }
    }
}
