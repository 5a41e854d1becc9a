import Clustering
import Foundation
import Tensor
import Testing

/// umap-learn's neighbour graph on a small set (`Fixtures/make_umap_fixture.py`).
struct UMAPFixture: Decodable {
    let k: Int, n: Int, d: Int
    let points: [Float]
    let indices: [Int32]
    let distances: [Float]
    let rho: [Double], sigma: [Double]
    let rows: [Int32], columns: [Int32], weights: [Float]

    static func load() throws -> UMAPFixture {
        let url = Bundle.module.url(forResource: "umap", withExtension: "json", subdirectory: "Fixtures")!
        return try JSONDecoder().decode(UMAPFixture.self, from: Data(contentsOf: url))
    }
}

/// Points in `blobs` tight groups far apart (point i in group i % blobs), and the groups.
func separatedBlobs(n: Int, d: Int, blobs: Int, seed: UInt64) -> (points: [Float], truth: [Int32]) {
    var rng = RandomGenerator(seed: seed)
    let centres = (0..<(blobs * d)).map { _ in Float(rng.normal() * 20) }
    var x = [Float](repeating: 0, count: n * d)
    for i in 0..<n { for j in 0..<d { x[i * d + j] = centres[(i % blobs) * d + j] + Float(rng.normal()) } }
    return (x, (0..<n).map { Int32($0 % blobs) })
}

@Suite struct ManifoldClusteringTests {
    @Test func nearestNeighboursAreExact() throws {
        // Against a plain double loop: the same indices (ties to the lower index), the same distances.
        let n = 700, d = 5, k = 7
        var rng = RandomGenerator(seed: 21)
        var x = (0..<(n * d)).map { _ in Float(rng.normal()) }
        for j in 0..<d { x[650 * d + j] = x[3 * d + j]; x[651 * d + j] = x[3 * d + j] }   // duplicates of point 3
        let nn = try NearestNeighbours.exact(x, rows: n, dimension: d, offset: 0, total: n, k: k, communicator: nil)
        for i in 0..<n {
            var all: [(Double, Int)] = (0..<n).map { j in
                var s = 0.0
                for t in 0..<d { let v = Double(x[i * d + t]) - Double(x[j * d + t]); s += v * v }
                return (j == i ? -1 : s, j)
            }
            all.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            #expect(nn.indices[(i * k)..<((i + 1) * k)].map(Int.init) == all.prefix(k).map(\.1), "row \(i)")
            for (j, (s, _)) in all.prefix(k).enumerated() {
                #expect(abs(Double(nn.distances[i * k + j]) - max(s, 0).squareRoot()) < 1e-3)
            }
        }
        #expect(nn.indices[3 * k] == 3 && Set(nn.indices[(3 * k + 1)..<(3 * k + 3)]) == [650, 651])
    }

    @Test func graphMatchesUMAPLearn() throws {
        let f = try UMAPFixture.load()
        // ρ and σ of every point, as smooth_knn_dist finds them.
        let mean = f.distances.reduce(0.0) { $0 + Double($1) } / Double(f.distances.count)
        for i in 0..<f.n {
            let d = f.distances[(i * f.k)..<((i + 1) * f.k)].map(Double.init)
            let (rho, sigma) = FuzzySimplicialSet.smoothDistances(d, meanDistance: mean)
            #expect(abs(rho - f.rho[i]) < 1e-5, "rho \(i)")
            #expect(abs(sigma - f.sigma[i]) <= 1e-4 * f.sigma[i], "sigma \(i): \(sigma) vs \(f.sigma[i])")
        }
        // The symmetric graph, edge for edge.
        let nn = NearestNeighbours.Result(k: f.k, indices: f.indices, distances: f.distances)
        let g = try FuzzySimplicialSet(neighbours: nn, rows: f.n, offset: 0, communicator: nil)
        #expect(g.heads == f.rows)
        #expect(g.tails == f.columns)
        for (a, b) in zip(g.weights, f.weights) { #expect(abs(a - b) < 1e-5) }
    }

    @Test func separatedGroupsAreRecoveredAndTheRunRepeats() throws {
        let (x, truth) = separatedBlobs(n: 1200, d: 12, blobs: 6, seed: 4)
        var method = ManifoldClustering()
        method.layoutEpochs = 100
        let a = try method.run(x, rows: 1200, dimension: 12, offset: 0, total: 1200, clusters: 6, restarts: 3, seed: 9, communicator: nil)
        #expect(ClusterMetrics.nmi(a.kmeans.assignments, truth) > 0.999)
        let b = try method.run(x, rows: 1200, dimension: 12, offset: 0, total: 1200, clusters: 6, restarts: 3, seed: 9, communicator: nil)
        #expect(a.layout == b.layout && a.kmeans.assignments == b.kmeans.assignments)
        let c = try method.run(x, rows: 1200, dimension: 12, offset: 0, total: 1200, clusters: 6, restarts: 3, seed: 10, communicator: nil)
        #expect(a.layout != c.layout)
    }

    @Test func kMeansPlusPlusSpreadsItsSeeds() throws {
        // Six groups, six seeds: D² sampling puts one in each group almost surely (here always, for
        // these seeds), where uniform draws would often put two in one group.
        // Group g around 50 times the g-th unit vector of 6-D, spread 1: every pair of groups is as far apart.
        var rng = RandomGenerator(seed: 8)
        var x = [Float](repeating: 0, count: 600 * 6)
        for i in 0..<600 { for j in 0..<6 { x[i * 6 + j] = (j == i % 6 ? 50 : 0) + Float(rng.normal()) } }
        let truth = (0..<600).map { $0 % 6 }
        for epoch in 0..<5 {
            let seeds = try KMeans.plusPlusIndices(x, rows: 600, dimension: 6, offset: 0, total: 600, k: 6, seed: 1, stream: epoch, communicator: nil)
            #expect(Set(seeds.map { truth[$0] }).count == 6, "epoch \(epoch): \(seeds)")
            #expect(seeds == (try KMeans.plusPlusIndices(x, rows: 600, dimension: 6, offset: 0, total: 600, k: 6, seed: 1, stream: epoch, communicator: nil)))
        }
    }
}

/// k-means held to equal sizes against NumPy (`Fixtures/make_balanced_fixture.py`): where plain
/// k-means keeps a crowded group of two classes whole and splits a thin group in two, the equal shares
/// split the crowded group instead.
@Suite struct BalancedKMeansTests {
    struct Fixture: Decodable { let points: [Float]; let n: Int; let k: Int; let start: [Double]; let centroids: [Double]; let assignments: [Int32] }

    @Test func matchesNumPyAndEqualisesTheSizes() throws {
        let url = Bundle.module.url(forResource: "balanced", withExtension: "json", subdirectory: "Fixtures")!
        let f = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        // Every Sinkhorn iteration, as the fixture runs them: the same arithmetic, so agreement to rounding.
        var exact = BalancedKMeans()
        exact.tolerance = 0
        let result = try f.points.withUnsafeBufferPointer {
            try exact.run($0.baseAddress!, rows: f.n, dimension: 2, total: f.n, centroids: f.start.map(Float.init), k: f.k, communicator: nil)
        }
        let (assignments, centroids) = (result.assignments, result.centroids)
        let agree = zip(assignments, f.assignments).filter { $0 == $1 }.count
        #expect(agree >= f.n - 1, "\(agree) of \(f.n) agree")
        for (a, b) in zip(centroids, f.centroids) { #expect(abs(Double(a) - b) < 1e-4, "\(a) against \(b)") }
        // The default stops each plan once the clusters' shares are within 0.1% of 1/k: the centroids move
        // by far less than the points' spread (1), and the assignment is the same but for a few borderline points.
        let stopped = try f.points.withUnsafeBufferPointer {
            try BalancedKMeans().run($0.baseAddress!, rows: f.n, dimension: 2, total: f.n, centroids: f.start.map(Float.init), k: f.k, communicator: nil)
        }
        for (a, b) in zip(stopped.centroids, f.centroids) { #expect(abs(Double(a) - b) < 2e-2, "\(a) against \(b)") }
        #expect(zip(stopped.assignments, f.assignments).filter { $0 == $1 }.count >= f.n - 3)
        var sizes = [Int](repeating: 0, count: f.k)
        for a in assignments { sizes[Int(a)] += 1 }
        #expect(sizes.allSatisfy { abs($0 - f.n / f.k) <= 3 }, "\(sizes)")
        // Plain k-means from the same start keeps the crowded group (300 points) in one cluster.
        let plain = try KMeans(k: f.k, iterations: 20, seed: 0).run(f.points, rows: f.n, dimension: 2, offset: 0, total: f.n, stream: 0,
                                                                     communicator: nil, initialIndices: [0, 300, 450, 525])
        #expect(plain.sizes.max()! >= 290, "\(plain.sizes)")
    }
}
