import Clustering
@testable import DeepCluster
import Foundation
import Testing

@Suite struct ClusterAssignmentTests {
    /// Seeded points in a few loose groups, row-major n × d.
    func points(_ n: Int, _ d: Int, seed: UInt64) -> [Float] {
        var state = seed
        func next() -> Float { state = state &* 6364136223846793005 &+ 1442695040888963407; return Float(state >> 40) / Float(1 << 24) - 0.5 }
        return (0..<(n * d)).map { i in next() + Float((i / d) % 4) * (i % d == (i / d) % 4 ? 1.5 : 0) }
    }

    @Test func theNearestCentroidIsKMeansOwnFinalAssignment() throws {
        let n = 300, d = 6, k = 7
        let x = points(n, d, seed: 3)
        let km = try x.withUnsafeBufferPointer { try KMeans(k: k, iterations: 15, seed: 1).run($0.baseAddress!, rows: n, dimension: d, offset: 0, total: n, stream: 0, communicator: nil) }
        let a = ClusterAssignment.nearest(x, rows: n, dimension: d, heads: [(km.centroids, k)], cosine: false)
        #expect(a.clusters == km.assignments)
        #expect(zip(a.scores, a.runnerUpScores).allSatisfy { $0 <= $1 } && zip(a.clusters, a.runnerUp).allSatisfy { $0 != $1 })
    }

    @Test func theTopPrototypeIsSphericalKMeansOwnFinalAssignment() throws {
        let n = 240, d = 5, k = 6
        var x = points(n, d, seed: 9)
        x.withUnsafeMutableBufferPointer { L2.normalizeRows($0.baseAddress!, rows: n, columns: d) }
        let km = try x.withUnsafeBufferPointer { try KMeans(k: k, iterations: 10, seed: 2, spherical: true).run($0.baseAddress!, rows: n, dimension: d, offset: 0, total: n, stream: 0, communicator: nil) }
        // Two heads: the same centroids twice, so both heads agree with k-means.
        let a = ClusterAssignment.nearest(x, rows: n, dimension: d, heads: [(km.centroids, k), (km.centroids, k)], cosine: true)
        #expect(a.heads == 2 && Array(a.clusters[..<n]) == km.assignments && Array(a.clusters[n...]) == km.assignments)
        #expect(zip(a.scores, a.runnerUpScores).allSatisfy { $0 >= $1 })
    }
}
