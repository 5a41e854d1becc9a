import Collective
import Glibc
import Tensor

/// UMAP's weighted neighbour graph (McInnes, Healy & Melville, "UMAP: Uniform Manifold Approximation
/// and Projection", 2018; umap-learn's `fuzzy_simplicial_set` with its defaults: local connectivity 1,
/// bandwidth 1, set_op_mix_ratio 1), over points spread across ranks.
///
/// Each point i gets ρᵢ, the distance to its nearest other point, and σᵢ, found by bisection so that
/// Σⱼ exp(−(dᵢⱼ − ρᵢ)/σᵢ) = log₂ k over its k − 1 neighbours; the directed weight aᵢⱼ = exp(−(dᵢⱼ − ρᵢ)/σᵢ)
/// (1 for the nearest) is symmetrised as the fuzzy union wᵢⱼ = aᵢⱼ + aⱼᵢ − aᵢⱼ·aⱼᵢ. The transposed
/// entries aⱼᵢ of a rank's points come from the other ranks: their directed edges go round in turn,
/// one rank's at a time, as the neighbour search's blocks do.
public struct FuzzySimplicialSet: Sendable {
    /// Edges whose head is one of this rank's points (global indices) and their weights. The graph is
    /// symmetric: the rank of j holds (j, i) with the same weight.
    public var heads: [Int32]
    public var tails: [Int32]
    public var weights: [Float]

    /// umap-learn's SMOOTH_K_TOLERANCE and MIN_K_DIST_SCALE.
    static let tolerance = 1e-5, minimumScale = 1e-3

    public init(neighbours nn: NearestNeighbours.Result, rows: Int, offset: Int, communicator comm: Communicator?) throws {
        let k = nn.k
        var moments = [nn.distances.reduce(0.0) { $0 + Double($1) }, Double(nn.distances.count)]
        try comm?.allreduce(&moments, op: .sum)
        let meanDistance = moments[1] > 0 ? moments[0] / moments[1] : 0
        // Directed memberships of this rank's rows, self excluded.
        var outHeads: [Int32] = [], outTails: [Int32] = [], outWeights: [Float] = []
        outHeads.reserveCapacity(rows * (k - 1)); outTails.reserveCapacity(rows * (k - 1)); outWeights.reserveCapacity(rows * (k - 1))
        for i in 0..<rows {
            let d = nn.distances[(i * k)..<((i + 1) * k)].map(Double.init)
            let (rho, sigma) = Self.smoothDistances(d, meanDistance: meanDistance)
            for j in 0..<k {
                let g = nn.indices[i * k + j]
                guard Int(g) != offset + i else { continue }
                let v = d[j] - rho <= 0 || sigma == 0 ? 1.0 : exp(-(d[j] - rho) / sigma)
                outHeads.append(Int32(offset + i)); outTails.append(g); outWeights.append(Float(v))
            }
        }
        // The entries aⱼᵢ whose tail i is one of this rank's points, from every rank's directed edges.
        var inHeads: [Int32] = [], inTails: [Int32] = [], inWeights: [Float] = []
        let size = comm?.size ?? 1, me = comm?.rank ?? 0
        let counts = try comm?.allgather([Int64(outHeads.count)]) ?? [Int64(outHeads.count)]
        for r in 0..<size {
            var h = r == me ? outHeads : [Int32](repeating: 0, count: Int(counts[r]))
            var t = r == me ? outTails : [Int32](repeating: 0, count: Int(counts[r]))
            var w = r == me ? outWeights : [Float](repeating: 0, count: Int(counts[r]))
            if let c = comm { try c.broadcast(&h, root: r); try c.broadcast(&t, root: r); try c.broadcast(&w, root: r) }
            for e in 0..<h.count where Int(t[e]) >= offset && Int(t[e]) < offset + rows {
                inHeads.append(t[e]); inTails.append(h[e]); inWeights.append(w[e])
            }
        }
        (heads, tails, weights) = Self.union(rows: rows, offset: offset, outgoing: (outHeads, outTails, outWeights),
                                             incoming: (inHeads, inTails, inWeights))
    }

    /// umap-learn's `smooth_knn_dist` for one point's k distances (its own 0 first): ρ and σ.
    public static func smoothDistances(_ d: [Double], meanDistance: Double) -> (rho: Double, sigma: Double) {
        let k = d.count
        let target = log2(Double(k))
        let rho = d.first { $0 > 0 } ?? 0
        var lo = 0.0, hi = Double.infinity, mid = 1.0
        for _ in 0..<64 {
            var psum = 0.0
            for j in 1..<k {
                let x = d[j] - rho
                psum += x > 0 ? exp(-(x / mid)) : 1
            }
            if abs(psum - target) < tolerance { break }
            if psum > target {
                hi = mid; mid = (lo + hi) / 2
            } else {
                lo = mid
                mid = hi == .infinity ? mid * 2 : (lo + hi) / 2
            }
        }
        let floor = minimumScale * (rho > 0 ? d.reduce(0, +) / Double(k) : meanDistance)
        return (rho, max(mid, floor))
    }

    /// wᵢⱼ = aᵢⱼ + aⱼᵢ − aᵢⱼ·aⱼᵢ for each pair present in either direction, grouped by head and sorted
    /// by tail (so the edge order does not depend on the number of ranks).
    static func union(rows: Int, offset: Int, outgoing: ([Int32], [Int32], [Float]), incoming: ([Int32], [Int32], [Float]))
        -> ([Int32], [Int32], [Float]) {
        // Bucket both lists by local head, then merge each head's entries by tail.
        var entries = [[(tail: Int32, out: Float, in: Float)]](repeating: [], count: rows)
        for e in 0..<outgoing.0.count { entries[Int(outgoing.0[e]) - offset].append((outgoing.1[e], outgoing.2[e], 0)) }
        for e in 0..<incoming.0.count { entries[Int(incoming.0[e]) - offset].append((incoming.1[e], 0, incoming.2[e])) }
        var heads: [Int32] = [], tails: [Int32] = [], weights: [Float] = []
        for i in 0..<rows {
            let list = entries[i].sorted { $0.tail < $1.tail }
            var p = 0
            while p < list.count {
                var a: Float = 0, b: Float = 0
                let t = list[p].tail
                while p < list.count && list[p].tail == t { a = max(a, list[p].out); b = max(b, list[p].in); p += 1 }
                let w = a + b - a * b
                guard w > 0 else { continue }
                heads.append(Int32(offset + i)); tails.append(t); weights.append(w)
            }
        }
        return (heads, tails, weights)
    }
}
