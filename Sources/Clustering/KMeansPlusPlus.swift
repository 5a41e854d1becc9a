import Collective
import Foundation
import Tensor

extension KMeans {
    /// Greedy k-means++ seeding (Arthur & Vassilvitskii, SODA 2007; the greedy form scikit-learn uses by
    /// default) over points spread across ranks: the first centre uniformly; then, each time, 2 + ⌊ln k⌋
    /// candidates drawn with probability proportional to their squared distance to the nearest centre
    /// so far, and the candidate that lowers the sum of those distances most is kept. Returns the k
    /// global indices, the same on every rank: the ranks' sums are gathered, a draw from the
    /// (seed, kmeansInit, stream) generator picks a rank and a point in it, the candidates' rows are
    /// shared by one allreduce and their sums by another. Costs about k · (2 + ln k) passes over the
    /// rows: meant for a small k, e.g. the classes of a dataset.
    public static func plusPlusIndices(_ x: UnsafePointer<Float>, rows: Int, dimension d: Int, offset: Int, total: Int,
                                       k: Int, seed: UInt64, stream: Int, communicator comm: Communicator?) throws -> [Int] {
        guard total >= k else { throw ClusteringError.tooFewPoints(needed: k, got: total, what: "k-means with k = \(k)") }
        var rng = RandomGenerator(seed: seed, purpose: .kmeansInit, stream)
        let trials = 2 + Int(log(Double(k)))
        var nearest = [Double](repeating: .infinity, count: rows)
        var chosen: [Int] = []
        var candidates = [rng.below(total)]
        while true {
            // The candidates' rows, from the ranks that hold them.
            var rowsOf = [Float](repeating: 0, count: candidates.count * d)
            for (t, g) in candidates.enumerated() where g >= offset && g < offset + rows {
                for j in 0..<d { rowsOf[t * d + j] = x[(g - offset) * d + j] }
            }
            try comm?.allreduce(&rowsOf, op: .sum)
            // Each candidate's potential: Σ min(nearest, ‖x − candidate‖²) over every point.
            var potential = [Double](repeating: 0, count: candidates.count)
            for i in 0..<rows {
                for t in 0..<candidates.count {
                    var s = 0.0
                    for j in 0..<d { let v = Double(x[i * d + j] - rowsOf[t * d + j]); s += v * v }
                    potential[t] += min(nearest[i], s)
                }
            }
            try comm?.allreduce(&potential, op: .sum)
            var best = 0
            for t in 1..<candidates.count where potential[t] < potential[best] { best = t }
            chosen.append(candidates[best])
            for i in 0..<rows {
                var s = 0.0
                for j in 0..<d { let v = Double(x[i * d + j] - rowsOf[best * d + j]); s += v * v }
                nearest[i] = min(nearest[i], s)
            }
            guard chosen.count < k else { return chosen }
            candidates = try (0..<trials).map { _ in try drawBySquaredDistance(nearest, offset: offset, total: total, rng: &rng, communicator: comm) }
        }
    }

    /// One global index drawn with probability ∝ `nearest` (this rank's share of the weights); the same
    /// on every rank. All weights zero (every point on a centre already): uniform.
    static func drawBySquaredDistance(_ nearest: [Double], offset: Int, total: Int, rng: inout RandomGenerator,
                                      communicator comm: Communicator?) throws -> Int {
        let local = nearest.reduce(0, +)
        let sums = try comm?.allgather([local]) ?? [local]
        let all = sums.reduce(0, +)
        let u = rng.uniform() * all
        guard all > 0 else { return rng.below(total) }
        // The rank whose share of the sum holds u, then the point within it.
        var before = 0.0, owner = sums.lastIndex { $0 > 0 }!
        for (r, s) in sums.enumerated() {
            if u < before + s { owner = r; break }
            before += s
        }
        if u >= all { before = sums[..<owner].reduce(0, +) }   // rounding: the last rank with weight
        var pick = Int64(-1)
        if owner == (comm?.rank ?? 0) {
            var run = before
            pick = Int64(offset + nearest.count - 1)
            for (i, w) in nearest.enumerated() {
                run += w
                if u < run { pick = Int64(offset + i); break }
            }
        }
        var shared = [pick]
        try comm?.allreduce(&shared, op: .max)
        return Int(shared[0])
    }
}
