import ArgumentParser
import Clustering
import Collective
import DeepCluster
import Foundation
import Tensor

/// The manifold clustering's distributed pieces on synthetic blobs (`syntheticPoints`), for the tests
/// that compare rank counts: the neighbours, the graph (its edges gathered in global order), the
/// k-means++ seeds, and the clustering's NMI to the blobs.
struct DiagnoseManifold: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "manifold")
    @Option var points = 1500
    @Option var dim = 12
    @Option var blobs = 6
    @Option var neighbours = 8
    @Option(name: .customLong("layout-epochs")) var layoutEpochs = 60
    @Option var seed: UInt64 = 2

    func run() throws {
        MPIRuntime.run(threads: 1) { comm in
            let x = syntheticPoints(n: points, d: dim, blobs: blobs, seed: seed, distinct: nil)
            let shard = Shard.range(count: points, rank: comm.rank, size: comm.size)
            let local = Array(x[(shard.lowerBound * dim)..<(shard.upperBound * dim)])
            let nn = try NearestNeighbours.exact(local, rows: shard.count, dimension: dim, offset: shard.lowerBound, total: points,
                                                 k: neighbours, communicator: comm)
            let graph = try FuzzySimplicialSet(neighbours: nn, rows: shard.count, offset: shard.lowerBound, communicator: comm)
            let seeds = try KMeans.plusPlusIndices(local, rows: shard.count, dimension: dim, offset: shard.lowerBound, total: points,
                                                   k: blobs, seed: seed, stream: 0, communicator: comm)
            var method = ManifoldClustering()
            method.neighbours = neighbours
            method.layoutEpochs = layoutEpochs
            let result = try method.run(local, rows: shard.count, dimension: dim, offset: shard.lowerBound, total: points,
                                        clusters: blobs, restarts: 2, seed: seed, communicator: comm)
            let indices = try comm.allgatherv(nn.indices)
            let heads = try comm.allgatherv(graph.heads), tails = try comm.allgatherv(graph.tails)
            let weights = try comm.allgatherv(graph.weights)
            let assignments = try comm.allgatherv(result.kmeans.assignments)
            guard comm.isRoot else { return }
            let truth = (0..<points).map { Int32($0 % blobs) }
            var r = BenchReport()
            r.add("neighbours", indices.map(Int.init))
            r.add("graph_heads", heads.map(Int.init))
            r.add("graph_tails", tails.map(Int.init))
            r.add("graph_weights", weights.map(Double.init))
            r.add("kmeans_plus_plus", seeds)
            r.add("nmi", ClusterMetrics.nmi(assignments, truth))
            r.emit(comm, json: true)
        }
    }
}
