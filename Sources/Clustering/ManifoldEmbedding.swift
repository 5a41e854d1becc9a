import Collective
import Glibc
import Tensor

/// UMAP's layout of a `FuzzySimplicialSet` in a few dimensions (umap-learn's
/// `optimize_layout_euclidean` as `UMAP.fit` runs it: move_other, a learning rate falling linearly from
/// 1, five negative samples per positive one, gradients clipped to ±4), over ranks.
///
/// Every rank holds the whole layout (N × `dimension` floats) and samples the edges whose head is one
/// of its points: edge e is drawn every max(w) / wₑ epochs, pulls its two ends together with the force
/// of the curve 1 / (1 + a·d^2b), then pushes its head away from randomly drawn points. After each
/// epoch the ranks add up what each moved (one allreduce of the layout), so one rank is exactly
/// umap-learn's sequential loop and several ranks apply each epoch's moves together. The result
/// depends on the number of ranks (not on anything else): as Hogwild-style SGD does, not as k-means does.
public struct ManifoldEmbedding: Sendable {
    public var dimension = 10
    /// Passes over the graph (nil: umap-learn's default, 500 up to 10,000 points and 200 above).
    public var epochs: Int?
    public var negativeSamples = 5
    /// The curve's a and b for min_dist 0, spread 1 (umap-learn's `find_ab_params(1.0, 0.0)`).
    public var a = 1.9328083975546724, b = 0.7904949734010681
    public var seed: UInt64

    public init(seed: UInt64, dimension: Int = 10, epochs: Int? = nil) {
        self.seed = seed; self.dimension = dimension; self.epochs = epochs
    }

    /// This rank's rows of the layout (rows × `dimension`), from `initial` (the same rows' first
    /// `dimension` principal components, as umap-learn's `init="pca"`).
    public func layout(_ graph: FuzzySimplicialSet, initial: [Float], rows: Int, offset: Int, total: Int,
                       communicator comm: Communicator?) throws -> [Float] {
        let dim = dimension
        precondition(initial.count == rows * dim, "ManifoldEmbedding: \(initial.count) initial values for \(rows) rows × \(dim)")
        let epochs = self.epochs ?? (total <= 10_000 ? 500 : 200)
        var y = try initialLayout(initial, rows: rows, offset: offset, communicator: comm)
        // Edges lighter than max(w) / epochs would never be drawn (umap-learn removes them).
        let maxWeight = try comm?.allreduce(graph.weights.max() ?? 0, op: .max) ?? (graph.weights.max() ?? 0)
        var heads: [Int] = [], tails: [Int] = [], perSample: [Double] = []
        for e in 0..<graph.weights.count where Double(graph.weights[e]) >= Double(maxWeight) / Double(epochs) {
            heads.append(Int(graph.heads[e])); tails.append(Int(graph.tails[e]))
            perSample.append(Double(maxWeight) / Double(graph.weights[e]))
        }
        let perNegative = perSample.map { $0 / Double(negativeSamples) }
        var nextSample = perSample, nextNegative = perNegative
        let (a, b) = (self.a, self.b)
        let rank = comm?.rank ?? 0, several = (comm?.size ?? 1) > 1
        var start = several ? y : []
        for n in 0..<epochs {
            let alpha = Float(1 - Double(n) / Double(epochs))
            var rng = RandomGenerator(seed: seed, purpose: .layout, n, rank)
            y.withUnsafeMutableBufferPointer { yp in
                let y = yp.baseAddress!
                for e in 0..<heads.count where nextSample[e] <= Double(n) {
                    let current = y + heads[e] * dim, other = y + tails[e] * dim
                    let d2 = Double(Self.squaredDistance(current, other, dim))
                    let coefficient = d2 > 0 ? -2 * a * b * pow(d2, b - 1) / (a * pow(d2, b) + 1) : 0
                    for t in 0..<dim {
                        let g = Self.clip(Float(coefficient) * (current[t] - other[t]))
                        current[t] += g * alpha
                        other[t] -= g * alpha
                    }
                    nextSample[e] += perSample[e]
                    let negatives = Int((Double(n) - nextNegative[e]) / perNegative[e])
                    for _ in 0..<max(negatives, 0) {
                        let j = rng.below(total)
                        let far = y + j * dim
                        let s2 = Double(Self.squaredDistance(current, far, dim))
                        if s2 == 0 && j == heads[e] { continue }
                        let repel = s2 > 0 ? 2 * b / ((0.001 + s2) * (a * pow(s2, b) + 1)) : 0
                        guard repel > 0 else { continue }
                        for t in 0..<dim { current[t] += Self.clip(Float(repel) * (current[t] - far[t])) * alpha }
                    }
                    nextNegative[e] += Double(max(negatives, 0)) * perNegative[e]
                }
            }
            if several, let c = comm {
                // Each rank's moves of this epoch, added up: y = start + Σ_ranks (y_rank − start).
                for i in 0..<y.count { y[i] -= start[i] }
                try c.allreduce(&y, op: .sum)
                for i in 0..<y.count { y[i] += start[i] }
                start = y
            }
        }
        return Array(y[(offset * dim)..<((offset + rows) * dim)])
    }

    /// umap-learn's start: the coordinates scaled so that the largest is 10, a little noise
    /// (σ = 1e-4, drawn per point), then each dimension moved and scaled onto [0, 10]; gathered whole.
    func initialLayout(_ initial: [Float], rows: Int, offset: Int, communicator comm: Communicator?) throws -> [Float] {
        let dim = dimension
        let largest = try comm?.allreduce(initial.map(abs).max() ?? 0, op: .max) ?? (initial.map(abs).max() ?? 0)
        let expansion: Float = largest > 0 ? 10 / largest : 1
        var local = initial.map { $0 * expansion }
        for i in 0..<rows {
            var rng = RandomGenerator(seed: seed, purpose: .layout, -1, offset + i)
            for t in 0..<dim { local[i * dim + t] += Float(rng.normal() * 1e-4) }
        }
        var low = [Float](repeating: .infinity, count: dim), high = [Float](repeating: -.infinity, count: dim)
        for i in 0..<rows { for t in 0..<dim { low[t] = min(low[t], local[i * dim + t]); high[t] = max(high[t], local[i * dim + t]) } }
        try comm?.allreduce(&low, op: .min)
        try comm?.allreduce(&high, op: .max)
        for i in 0..<rows {
            for t in 0..<dim {
                let span = high[t] - low[t]
                local[i * dim + t] = span > 0 ? 10 * (local[i * dim + t] - low[t]) / span : 0
            }
        }
        return try comm?.allgatherv(local) ?? local
    }

    @inline(__always)
    static func squaredDistance(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ dim: Int) -> Float {
        var s: Float = 0
        for t in 0..<dim { let d = x[t] - y[t]; s += d * d }
        return s
    }

    @inline(__always)
    static func clip(_ v: Float) -> Float { min(max(v, -4), 4) }
}
