import Clustering
import Foundation
import Testing

/// DeepCluster-v2's spherical k-means against PyTorch running SwAV's `cluster_memory` loop on the same
/// points from the same initial centroids (`Fixtures/make_spherical_fixture.py`).
@Suite struct SphericalKMeansTests {
    struct Fixture: Decodable {
        let points: [Float]; let n: Int; let d: Int; let k: Int; let iterations: Int
        let init_index: [Int]; let labels: [Int32]; let centroids: [Float]; let empty: Int
        static func load() throws -> Fixture {
            let url = Bundle.module.url(forResource: "spherical", withExtension: "json", subdirectory: "Fixtures")!
            return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        }
    }

    @Test func matchesSwAVsClusterMemory() throws {
        let f = try Fixture.load()
        let r = try KMeans(k: f.k, iterations: f.iterations, seed: 0, spherical: true)
            .run(f.points, rows: f.n, dimension: f.d, offset: 0, total: f.n, stream: 0, communicator: nil, initialIndices: f.init_index)
        // Same algorithm, same start: the same partition, the same unit centroids, the same empty
        // clusters met (they keep their centroid: nothing is split).
        #expect(r.assignments == f.labels)
        let worst = zip(r.centroids, f.centroids).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "largest centroid difference \(worst)")
        #expect(r.repaired == f.empty)
        for c in 0..<f.k {
            let norm = (0..<f.d).map { r.centroids[c * f.d + $0] * r.centroids[c * f.d + $0] }.reduce(0, +)
            #expect(abs(norm - 1) < 1e-5)
        }
    }

    @Test func objectiveNeverIncreases() throws {
        let f = try Fixture.load()
        let r = try KMeans(k: 12, iterations: 10, seed: 4, spherical: true)
            .run(f.points, rows: f.n, dimension: f.d, offset: 0, total: f.n, stream: 1, communicator: nil)
        // Σ‖x − c‖² = Σ(2 − 2 x·c) for unit vectors: the spherical objective, monotone under Lloyd.
        for (a, b) in zip(r.objectives, r.objectives.dropFirst()) { #expect(b <= a * (1 + 1e-5)) }
        #expect(r.sizes.reduce(0, +) == f.n)
    }
}
