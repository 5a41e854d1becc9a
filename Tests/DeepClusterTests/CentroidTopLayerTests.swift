import Clustering
@testable import DeepCluster
import Tensor
import Testing

/// `--top-layer centroids`: the layer is the nearest-cluster-mean rule of the epoch's clusters, as a
/// Gaussian classifier of the features the top layer reads.
@Suite struct CentroidTopLayerTests {
    /// n points in five groups of d dimensions with a shared offset and unequal scales, row-major.
    func groups(_ n: Int, _ d: Int, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        return (0..<(n * d)).map { i in
            let row = i / d, column = i % d
            return 3 + Float(rng.normal()) * Float(1 + column % 3) + (column == row % 5 ? 6 : 0)
        }
    }

    @Test func logitsAreTheGaussianPosteriorOfTheClusterMeans() throws {
        let n = 600, d = 12, k = 5
        let x = groups(n, d, seed: 2)
        let labels = (0..<n).map { Int32($0 % k) }
        let top = try CentroidTopLayer(inputs: x, rows: n, dimension: d, labels: labels, clusters: k, communicator: nil)
        #expect(top.weights.count == k * d && top.bias.count == k)
        // The means and the within-cluster variance, directly.
        var means = [Double](repeating: 0, count: k * d)
        for i in 0..<n { for c in 0..<d { means[(i % k) * d + c] += Double(x[i * d + c]) / Double(n / k) } }
        var within = 0.0
        for i in 0..<n { for c in 0..<d { let e = Double(x[i * d + c]) - means[(i % k) * d + c]; within += e * e } }
        let s2 = within / Double(n * d)
        #expect(abs(top.variance - s2) / s2 < 1e-6)
        // Logit differences are differences of −‖x − m_j‖² / 2s², scaled as the reference's layer.
        let rowNorms = (0..<k).map { j in (0..<d).reduce(0.0) { $0 + Double(top.weights[j * d + $1] * top.weights[j * d + $1]) }.squareRoot() }
        #expect(abs(rowNorms.reduce(0, +) / Double(k) - 0.01 * Double(d).squareRoot()) < 1e-6)
        var worst = 0.0
        for i in stride(from: 0, to: n, by: 37) {
            func logit(_ j: Int) -> Double { (0..<d).reduce(Double(top.bias[j])) { $0 + Double(top.weights[j * d + $1]) * Double(x[i * d + $1]) } }
            func distance(_ j: Int) -> Double { (0..<d).reduce(0.0) { let e = Double(x[i * d + $1]) - means[j * d + $1]; return $0 + e * e } }
            for j in 1..<k {
                let expected = top.scale * (distance(0) - distance(j)) / (2 * s2)
                worst = max(worst, abs((logit(j) - logit(0)) - expected) / max(1, abs(expected)))
            }
        }
        #expect(worst < 1e-4 * top.scale, "largest relative difference \(worst)")
    }

    @Test func itPredictsKMeansOwnLabelsWhereARandomLabellingIsChance() throws {
        let n = 1000, d = 12, k = 5
        let x = groups(n, d, seed: 5)
        let km = try x.withUnsafeBufferPointer {
            try KMeans(k: k, iterations: 30, seed: 1).run($0.baseAddress!, rows: n, dimension: d, offset: 0, total: n, stream: 0, communicator: nil)
        }
        let top = try CentroidTopLayer(inputs: x, rows: n, dimension: d, labels: km.assignments, clusters: k, communicator: nil)
        // k-means' final labels are each point's nearest mean of those labels: the layer reproduces them.
        let agreement = try top.agreement(inputs: x, rows: n, labels: km.assignments, communicator: nil)
        #expect(agreement > 0.99, "agreement \(agreement)")
        var rng = RandomGenerator(seed: 8)
        let shuffled = km.assignments.map { _ in Int32(rng.below(k)) }
        let chance = try top.agreement(inputs: x, rows: n, labels: shuffled, communicator: nil)
        #expect(chance < 0.35, "agreement with random labels \(chance)")
    }

    @Test func anEmptyClusterIsNeverPredicted() throws {
        let n = 200, d = 4, k = 3
        let x = groups(n, d, seed: 3)
        let labels = (0..<n).map { Int32($0 % 2) }   // cluster 2 has no image
        let top = try CentroidTopLayer(inputs: x, rows: n, dimension: d, labels: labels, clusters: k, communicator: nil)
        let emptyRow = top.weights[(2 * d)..<(3 * d)]
        #expect(emptyRow.allSatisfy { $0 == 0 } && top.bias[2] < min(top.bias[0], top.bias[1]))
        #expect(top.bias.allSatisfy { $0.isFinite })
    }
}
