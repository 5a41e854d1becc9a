import Clustering
import Foundation
import Tensor
import Testing

struct SklearnFixture: Decodable {
    struct KM: Decodable { let points: [Float]; let n: Int; let d: Int; let k: Int; let iterations: Int; let init_index: [Int]; let inertia: Double; let labels: [Int32] }
    struct Pair: Decodable { let a: [Int32]; let b: [Int32]; let nmi: Double; let ari: Double }
    let kmeans: KM
    let metrics: [Pair]

    static func load() throws -> SklearnFixture {
        let url = Bundle.module.url(forResource: "sklearn", withExtension: "json", subdirectory: "Fixtures")!
        return try JSONDecoder().decode(SklearnFixture.self, from: Data(contentsOf: url))
    }
}

@Suite struct KMeansTests {
    @Test func objectiveMatchesScikitLearnFromTheSameInitialCentroids() throws {
        let f = try SklearnFixture.load().kmeans
        let res = try KMeans(k: f.k, iterations: f.iterations, seed: 0)
            .run(f.points, rows: f.n, dimension: f.d, offset: 0, total: f.n, stream: 0, communicator: nil, initialIndices: f.init_index)
        let objective = res.objectives.last!
        #expect(abs(objective - f.inertia) / f.inertia < 0.01, "objective \(objective) vs scikit-learn \(f.inertia)")
        // Same Lloyd iterations from the same start: the partitions agree almost everywhere.
        let agree = zip(res.assignments, f.labels).filter { $0 == $1 }.count
        #expect(Double(agree) / Double(f.n) > 0.98)
    }

    @Test func objectiveNeverIncreases() throws {
        let f = try SklearnFixture.load().kmeans
        let res = try KMeans(k: f.k, iterations: 15, seed: 3).run(f.points, rows: f.n, dimension: f.d, offset: 0, total: f.n, stream: 2, communicator: nil)
        for (a, b) in zip(res.objectives, res.objectives.dropFirst()) { #expect(b <= a * (1 + 1e-6)) }
        #expect(res.sizes.reduce(0, +) == f.n)
    }

    @Test func separatedBlobsAreRecovered() throws {
        // Four tight blobs far apart: every blob must become one cluster.
        var rng = RandomGenerator(seed: 11)
        let centres: [[Float]] = [[0, 0], [100, 0], [0, 100], [100, 100]]
        var x: [Float] = []
        var truth: [Int32] = []
        for i in 0..<400 { let c = i % 4; truth.append(Int32(c)); x += [centres[c][0] + Float(rng.normal()), centres[c][1] + Float(rng.normal())] }
        // One initial centroid in each blob (points 0..3): Lloyd must then recover the blobs exactly.
        let res = try KMeans(k: 4, iterations: 20, seed: 5)
            .run(x, rows: 400, dimension: 2, offset: 0, total: 400, stream: 0, communicator: nil, initialIndices: [0, 1, 2, 3])
        #expect(ClusterMetrics.nmi(res.assignments, truth) > 0.999)
    }

    @Test func emptyClustersAreSplitAsFaissDoes() {
        // Cluster 1 is empty; cluster 0 holds everything: it must be split, pair perturbed ×(1±1/1024).
        var centroids: [Float] = [1, 2, 3, 4, 9, 9]
        var counts: [Double] = [10, 0, 0]
        var rng = RandomGenerator(seed: 1)
        let split = KMeans.splitEmptyClusters(&centroids, counts: &counts, k: 3, d: 2, total: 10, rng: &rng)
        #expect(split == 2)
        #expect(counts.reduce(0, +) == 10)
        #expect(counts.allSatisfy { $0 > 0 })
        // Every centroid is now distinct.
        let pairs = stride(from: 0, to: 6, by: 2).map { [centroids[$0], centroids[$0 + 1]] }
        #expect(Set(pairs.map { "\($0)" }).count == 3)
        let e = KMeans.splitEpsilon
        #expect(pairs.contains { $0 == [1 * (1 + e), 2 * (1 - e)] })
    }

    @Test func moreClustersThanDistinctPointsIsRepaired() throws {
        // 40 points but only 5 distinct values, k = 8: clusters go empty every iteration and are repaired.
        var x: [Float] = []
        for i in 0..<40 { x += [Float(i % 5) * 10, Float(i % 5)] }
        let res = try KMeans(k: 8, iterations: 5, seed: 2).run(x, rows: 40, dimension: 2, offset: 0, total: 40, stream: 0, communicator: nil)
        #expect(res.repaired > 0)
        // Points sit on their centroids up to faiss's ×(1 ± 1/1024) split perturbation.
        // (Σ‖x‖² is about 12,000 here; a wrong assignment would cost at least 100.)
        #expect(res.objectives.last! < 0.01)
        #expect(res.centroids.allSatisfy { $0.isFinite })
    }

    @Test func tooFewPointsIsAnError() {
        #expect(throws: ClusteringError.self) {
            try KMeans(k: 10, seed: 0).run([1, 2, 3], rows: 3, dimension: 1, offset: 0, total: 3, stream: 0, communicator: nil)
        }
    }
}
