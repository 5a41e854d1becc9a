import Collective
import Tensor

/// Distributed Lloyd k-means as DeepCluster runs it through faiss, over points spread across ranks.
///
/// - init: k distinct global indices from the (seed, kmeansInit, stream) generator; each owning rank
///   contributes its rows and one allreduce assembles the k×d centroids on every rank;
/// - each iteration: every rank assigns its own points (‖x‖² − 2x·c + ‖c‖² by sgemm, in blocks of
///   rows so memory stays bounded for large N·k), per-cluster counts and sums (double) plus the
///   objective go through one fused allreduce, centroids become the means, and empty clusters are
///   repaired identically on every rank with faiss's `split_clusters` rule;
/// - one final assignment against the final centroids (faiss's `index.search`).
///
/// `spherical` is DeepCluster-v2's variant (`swav/main_deepclusterv2.py:345-413`) for unit-norm points:
/// the same assignment (for unit centroids the nearest is the one of largest cosine), centroids
/// re-normalised after every mean, and an empty cluster keeps its previous centroid instead of being split.
public struct KMeans {
    public struct Result {
        /// Final centroids, k×d row-major.
        public var centroids: [Float]
        /// Cluster of each local point.
        public var assignments: [Int32]
        /// Σ‖x − c(x)‖² over all points at each assignment step (iterations + the final one).
        public var objectives: [Double]
        /// Clusters repaired (split) over all iterations; spherical: empty clusters met (kept as they were).
        public var repaired: Int
        /// Global size of each cluster in the final assignment.
        public var sizes: [Int]
    }

    public let k: Int
    public let iterations: Int
    public let seed: UInt64
    public let spherical: Bool
    /// faiss's perturbation of a split pair, EPS = 1/1024.
    public static let splitEpsilon: Float = 1.0 / 1024

    public init(k: Int, iterations: Int = 20, seed: UInt64, spherical: Bool = false) {
        self.k = k; self.iterations = iterations; self.seed = seed; self.spherical = spherical
    }

    /// Scales each of the k rows to unit length (rows of zeros stay zero).
    static func normalizeRows(_ c: inout [Float], k: Int, d: Int) {
        for r in 0..<k {
            var s: Float = 0
            for j in 0..<d { s += c[r * d + j] * c[r * d + j] }
            guard s > 0 else { continue }
            let inv = 1 / s.squareRoot()
            for j in 0..<d { c[r * d + j] *= inv }
        }
    }

    /// `x`: this rank's `rows` points (d columns), which are global indices `offset ..< offset + rows`
    /// of `total` points. `stream` picks the generators' stream for the initial centroids and the
    /// repairs: the epoch in training, the restart in evaluation. `stop`, when given, is called at the
    /// start of each of the `iterations + 1` assignment passes on every rank (a safe point for a stop
    /// request; it throws to end the run).
    public func run(_ x: UnsafePointer<Float>, rows: Int, dimension d: Int, offset: Int, total: Int,
                    stream: Int, communicator comm: Communicator?, initialIndices: [Int]? = nil,
                    stop: (() throws -> Void)? = nil) throws -> Result {
        guard total >= k else { throw ClusteringError.tooFewPoints(needed: k, got: total, what: "k-means with k = \(k)") }
        var centroids = [Float](repeating: 0, count: k * d)
        var rng = RandomGenerator(seed: seed, purpose: .kmeansInit, stream)
        let chosen = initialIndices ?? rng.distinct(k, of: total)
        precondition(chosen.count == k, "k-means: \(chosen.count) initial indices for k = \(k)")
        for (c, g) in chosen.enumerated() where g >= offset && g < offset + rows {
            for j in 0..<d { centroids[c * d + j] = x[(g - offset) * d + j] }
        }
        try comm?.allreduce(&centroids, op: .sum)
        if spherical { KMeans.normalizeRows(&centroids, k: k, d: d) }

        var assignments = [Int32](repeating: 0, count: rows)
        var objectives: [Double] = []
        var repaired = 0
        // Fused reduction buffer: [counts (k) | sums (k·d) | objective].
        var reduced = [Double](repeating: 0, count: k + k * d + 1)
        // Distance workspace, one block of rows × k, reused by every assignment step.
        var dots = [Float](repeating: 0, count: max(1, min(rows, (1 << 22) / max(k, 1))) * k)
        let rowNorms = (0..<rows).map { i -> Float in
            var s: Float = 0; for j in 0..<d { s += x[i * d + j] * x[i * d + j] }; return s
        }
        for iteration in 0...iterations {
            try stop?()
            let objective = assign(x, rows: rows, d: d, centroids: centroids, rowNorms: rowNorms, dots: &dots, into: &assignments)
            if iteration == iterations {
                var tail = [Double](repeating: 0, count: k + 1)
                for a in assignments { tail[Int(a)] += 1 }
                tail[k] = objective
                try comm?.allreduce(&tail, op: .sum)
                objectives.append(tail[k])
                return Result(centroids: centroids, assignments: assignments, objectives: objectives,
                              repaired: repaired, sizes: tail[0..<k].map { Int($0) })
            }
            for i in 0..<reduced.count { reduced[i] = 0 }
            for i in 0..<rows {
                let a = Int(assignments[i])
                reduced[a] += 1
                let s = k + a * d, r = x + i * d
                for j in 0..<d { reduced[s + j] += Double(r[j]) }
            }
            reduced[k + k * d] = objective
            try comm?.allreduce(&reduced, op: .sum)
            objectives.append(reduced[k + k * d])
            var counts = reduced[0..<k].map { $0 }
            for c in 0..<k where counts[c] > 0 {
                let inv = 1 / counts[c]
                for j in 0..<d { centroids[c * d + j] = Float(reduced[k + c * d + j] * inv) }
            }
            if spherical {
                KMeans.normalizeRows(&centroids, k: k, d: d)
                repaired += counts.filter { $0 == 0 }.count   // kept their previous centroid
                continue
            }
            var repairRng = RandomGenerator(seed: seed, purpose: .kmeansRepair, stream, iteration)
            repaired += KMeans.splitEmptyClusters(&centroids, counts: &counts, k: k, d: d, total: total, rng: &repairRng)
        }
        fatalError("unreachable")
    }

    /// faiss `split_clusters`: for each empty cluster in order, walk the clusters from 0 (wrapping) and
    /// take cluster j with probability (count_j − 1)/(n − k) — size-proportional, never a singleton —
    /// copy its centroid, perturb the pair by ×(1 ± EPS) in alternating dimensions, split the count.
    /// Deterministic given the generator, so every rank repairs identically. Returns how many it split.
    public static func splitEmptyClusters(_ centroids: inout [Float], counts: inout [Double], k: Int, d: Int,
                                          total: Int, rng: inout RandomGenerator) -> Int {
        var split = 0
        let denominator = Double(max(total - k, 1))
        for ci in 0..<k where counts[ci] == 0 {
            var cj = 0
            while true {
                let p = (counts[cj] - 1) / denominator
                if rng.uniform() < p { break }
                cj = (cj + 1) % k
            }
            for j in 0..<d {
                let v = centroids[cj * d + j]
                if j % 2 == 0 {
                    centroids[ci * d + j] = v * (1 + splitEpsilon); centroids[cj * d + j] = v * (1 - splitEpsilon)
                } else {
                    centroids[ci * d + j] = v * (1 - splitEpsilon); centroids[cj * d + j] = v * (1 + splitEpsilon)
                }
            }
            counts[ci] = (counts[cj] / 2).rounded(.down)
            counts[cj] -= counts[ci]
            split += 1
        }
        return split
    }

    /// Nearest centroid of each row; returns this rank's Σ of squared distances.
    func assign(_ x: UnsafePointer<Float>, rows: Int, d: Int, centroids: [Float], rowNorms: [Float],
                dots: inout [Float], into assignments: inout [Int32]) -> Double {
        let block = dots.count / k   // ≤ 16 MB of distances at a time
        let cnorm = (0..<k).map { c -> Float in var s: Float = 0; for j in 0..<d { s += centroids[c * d + j] * centroids[c * d + j] }; return s }
        let largestNorm = cnorm.max() ?? 0
        var objective = 0.0
        var start = 0
        while start < rows {
            let m = min(block, rows - start)
            centroids.withUnsafeBufferPointer { cp in
                dots.withUnsafeMutableBufferPointer { dp in
                    BLAS.sgemm(transB: true, m: m, n: k, k: d, a: x + start * d, lda: d, b: cp.baseAddress!, ldb: d,
                               c: dp.baseAddress!, ldc: k)
                }
            }
            let kk = k
            var partial = [Double](repeating: 0, count: m)
            dots.withUnsafeBufferPointer { dp in
                assignments.withUnsafeMutableBufferPointer { ap in
                    partial.withUnsafeMutableBufferPointer { pp in
                        let dotp = dp.baseAddress!, a = ap.baseAddress! + start, obj = pp.baseAddress!
                        cnorm.withUnsafeBufferPointer { cn in
                            Parallel.forEachChunk(m, minChunk: 256) { r in
                                for i in r {
                                    let row = dotp + i * kk
                                    // A centroid must beat the best so far by more than rounding: identical
                                    // centroids (duplicate images) then go to the lowest index whatever
                                    // sgemm's kernel or the rank's row block, so every machine and rank
                                    // count draws the same partition.
                                    let tolerance = 1e-6 * (rowNorms[start + i] + largestNorm)
                                    var best = cn[0] - 2 * row[0], at = 0
                                    for c in 1..<kk { let v = cn[c] - 2 * row[c]; if v < best - tolerance { best = v; at = c } }
                                    a[i] = Int32(at)
                                    obj[i] = Double(max(0, best + rowNorms[start + i]))
                                }
                            }
                        }
                    }
                }
            }
            objective += partial.reduce(0, +)
            start += m
        }
        return objective
    }
}
