import Collective
import Foundation
import Tensor

/// k-means whose clusters are held to equal shares of the points: each iteration assigns the points
/// by the entropy-regularised transport plan between them and k equal shares (Sinkhorn–Knopp; the
/// entropy ε follows the data's scale, `relativeEpsilon`), the
/// equipartition of SeLa (Asano, Rupprecht & Vedaldi, "Self-labelling via simultaneous clustering and
/// representation learning", ICLR 2020) and SwAV, here with squared distances as the cost; centroids
/// become the plan's weighted means. Over points spread across ranks: each Sinkhorn iteration
/// allreduces the k column sums, each k-means iteration the weighted sums.
///
/// It assumes the classes are of about equal size, as those methods do. Where one natural group
/// holds two classes and one class forms two groups (Fashion-MNIST's pullovers and coats together,
/// its bags in two shapes), plain k-means keeps the groups; this gives each cluster its share and so
/// splits the crowded group and joins the thin ones. On data whose classes differ much in size it
/// cuts large classes: `eval --balance none` turns it off.
public struct BalancedKMeans: Sendable {
    public var iterations = 20
    /// Sinkhorn iterations at most per plan (each plan starts from the previous one's potentials), and
    /// the relative error of the clusters' shares at which they stop.
    public var sinkhornIterations = 100
    public var tolerance = 1e-3
    /// The entropy ε of the plan ∝ exp(−d²/ε), as a fraction of the points' mean squared distance to
    /// their nearest start centroid (so it follows the data's scale). Below about 0.1 the plan stays
    /// close to plain k-means' in 100 Sinkhorn iterations and the sizes are not equalised.
    public var relativeEpsilon = 0.3

    public init() {}

    public struct Result {
        /// Cluster of each of this rank's points.
        public var assignments: [Int32]
        public var centroids: [Float]
        /// The mean squared distance of the points to their clusters' centroids: lower is better,
        /// comparable between runs on the same points (restarts are chosen by it, never by labels).
        public var cost: Double
    }

    /// From `centroids` (k × d), the final assignment of this rank's points and the centroids. `epsilon`
    /// (absolute) overrides `relativeEpsilon`, e.g. to compare runs from several starts under one ε.
    public func run(_ x: UnsafePointer<Float>, rows: Int, dimension d: Int, total: Int, centroids start: [Float], k: Int,
                    epsilon given: Double? = nil, communicator comm: Communicator?) throws -> Result {
        var centroids = start.map(Double.init)
        let epsilon = try given ?? relativeEpsilon * Self.meanNearestSquaredDistance(x, rows: rows, d: d, total: total,
                                                                                    centroids: start, k: k, communicator: comm)
        var plan = [Double](repeating: 0, count: rows * k)
        var assignments = [Int32](repeating: 0, count: rows)
        var potential = [Double](repeating: 0, count: k)
        for _ in 0..<iterations {
            try transportPlan(x, rows: rows, d: d, total: total, centroids: centroids, k: k, epsilon: epsilon,
                              sinkhorn: sinkhornIterations, columnPotential: &potential,
                              into: &plan, communicator: comm)
            // Weighted means: [weights (k) | sums (k·d)], one allreduce.
            var sums = [Double](repeating: 0, count: k + k * d)
            for i in 0..<rows {
                for c in 0..<k {
                    let w = plan[i * k + c]
                    guard w > 0 else { continue }
                    sums[c] += w
                    for j in 0..<d { sums[k + c * d + j] += w * Double(x[i * d + j]) }
                }
            }
            try comm?.allreduce(&sums, op: .sum)
            for c in 0..<k where sums[c] > 0 {
                for j in 0..<d { centroids[c * d + j] = sums[k + c * d + j] / sums[c] }
            }
        }
        try transportPlan(x, rows: rows, d: d, total: total, centroids: centroids, k: k, epsilon: epsilon,
                          sinkhorn: sinkhornIterations, columnPotential: &potential, into: &plan, communicator: comm)
        var cost = [0.0]
        for i in 0..<rows {
            var best = 0
            for c in 1..<k where plan[i * k + c] > plan[i * k + best] { best = c }
            assignments[i] = Int32(best)
            for j in 0..<d { let t = Double(x[i * d + j]) - centroids[best * d + j]; cost[0] += t * t }
        }
        try comm?.allreduce(&cost, op: .sum)
        return Result(assignments: assignments, centroids: centroids.map(Float.init), cost: cost[0] / Double(total))
    }

    /// The points' mean squared distance to their nearest centroid: the scale `relativeEpsilon` reads.
    public static func meanNearestSquaredDistance(_ x: UnsafePointer<Float>, rows: Int, d: Int, total: Int, centroids: [Float], k: Int,
                                                  communicator comm: Communicator?) throws -> Double {
        var sum = [0.0]
        for i in 0..<rows {
            var nearest = Double.infinity
            for c in 0..<k {
                var s = 0.0
                for j in 0..<d { let t = Double(x[i * d + j] - centroids[c * d + j]); s += t * t }
                nearest = min(nearest, s)
            }
            sum[0] += nearest
        }
        try comm?.allreduce(&sum, op: .sum)
        return max(sum[0] / Double(total), .leastNormalMagnitude)
    }

    /// The Sinkhorn–Knopp plan, each point's row summing to 1 and each cluster's column to N/k, computed
    /// in the log domain (log-sum-exp over ranks: an allreduce of the maxima, then of the sums), so a
    /// point whose cost to a far cluster is thousands of ε still has its finite share there.
    func transportPlan(_ x: UnsafePointer<Float>, rows: Int, d: Int, total: Int, centroids: [Double], k: Int, epsilon: Double,
                       sinkhorn: Int, columnPotential: inout [Double], into plan: inout [Double], communicator comm: Communicator?) throws {
        // plan holds the log kernel −d²/ε until the end.
        for i in 0..<rows {
            for c in 0..<k {
                var s = 0.0
                for j in 0..<d { let t = Double(x[i * d + j]) - centroids[c * d + j]; s += t * t }
                plan[i * k + c] = -s / epsilon
            }
        }
        var rowPotential = [Double](repeating: 0, count: rows)
        let logShare = -log(Double(k)), logPoint = -log(Double(total))
        // Rows first, from the column potentials given (zero at the start, the previous plan's later).
        func rowStep() {
            for i in 0..<rows {
                var m = -Double.infinity
                for c in 0..<k { m = max(m, plan[i * k + c] + columnPotential[c]) }
                var s = 0.0
                for c in 0..<k { s += exp(plan[i * k + c] + columnPotential[c] - m) }
                rowPotential[i] = logPoint - m - log(s)
            }
        }
        rowStep()
        for _ in 0..<sinkhorn {
            // Columns: b_c = log(1/k) − log Σ_i exp(L_ic + a_i), over every rank's points.
            var top = [Double](repeating: -.infinity, count: k)
            for i in 0..<rows { for c in 0..<k { top[c] = max(top[c], plan[i * k + c] + rowPotential[i]) } }
            try comm?.allreduce(&top, op: .max)
            var sums = [Double](repeating: 0, count: k)
            for i in 0..<rows { for c in 0..<k where top[c] > -.infinity { sums[c] += exp(plan[i * k + c] + rowPotential[i] - top[c]) } }
            try comm?.allreduce(&sums, op: .sum)
            // The columns' mass under the current potentials, against their share 1/k: close enough, done
            // (every rank sees the same reduced values, so every rank stops at the same iteration).
            var error = 0.0
            for c in 0..<k where sums[c] > 0 { error = max(error, abs(exp(top[c] + log(sums[c]) + columnPotential[c] - logShare) - 1)) }
            if error < tolerance { break }
            for c in 0..<k { columnPotential[c] = sums[c] > 0 ? logShare - top[c] - log(sums[c]) : 0 }
            // Rows: a_i = log(1/N) − log Σ_c exp(L_ic + b_c).
            rowStep()
        }
        let logN = log(Double(total))
        for i in 0..<rows { for c in 0..<k { plan[i * k + c] = exp(plan[i * k + c] + rowPotential[i] + columnPotential[c] + logN) } }
    }
}
