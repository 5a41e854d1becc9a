import Foundation
import Clustering
import Collective
import Datasets
import NN

/// k-means with k = number of classes on features spread over ranks, scored against the labels:
/// NMI, ARI and accuracy under the best one-to-one matching. Features go through PCA to `dimension`
/// (whitened or not) and L2 normalisation first, as DeepCluster clusters them. k-means runs `restarts`
/// times from different initial centroids and the run with the lowest objective is scored (scikit-learn's
/// `n_init`, faiss's `nredo`): one run's local optimum moves k=10 NMI by several hundredths.
public enum ClusteringEvaluation {
    public struct Scores: Sendable {
        public var nmi = 0.0, ari = 0.0, accuracy = 0.0
        /// For the clusterings of a UMAP layout: the points' mean squared distance to their centroid there.
        public var cost: Double?
    }

    public static func score(features: [Float], rows: Int, dimension d: Int, offset: Int, total: Int,
                             labels: [Int32], classes: Int, pcaDimension: Int?, whiten: Bool, seed: UInt64,
                             restarts: Int = 1, communicator comm: Communicator) throws -> Scores {
        var x = features, dim = d
        if let p = pcaDimension, p < d {
            let pca = try PCAWhitening(fitting: features, rows: rows, columns: d, dimension: p, whiten: whiten, communicator: comm)
            x = [Float](repeating: 0, count: rows * p)
            pca.apply(features, rows: rows, into: &x)
            dim = p
        } else {
            x.withUnsafeMutableBufferPointer { L2.normalizeRows($0.baseAddress!, rows: rows, columns: d) }
        }
        let km = try KMeans.bestOfRestarts(restarts) { r in
            try KMeans(k: classes, iterations: 20, seed: seed)
                .run(x, rows: rows, dimension: dim, offset: offset, total: total, stream: r, communicator: comm)
        }
        return try scores(km.assignments, labels: labels, communicator: comm)
    }

    /// The over-clustering merged spectrally (`SpectralMerge`, KASP): k-means with `representatives`
    /// clusters on the L2-normalised features (the lowest objective of `restarts` runs), then the
    /// centroids' spectral clustering into `classes` groups; each image takes its centroid's group.
    public static func mergedScore(features: [Float], rows: Int, dimension d: Int, offset: Int, total: Int,
                                   labels: [Int32], classes: Int, representatives: Int, seed: UInt64,
                                   restarts: Int = 1, communicator comm: Communicator) throws -> Scores {
        var x = features
        x.withUnsafeMutableBufferPointer { L2.normalizeRows($0.baseAddress!, rows: rows, columns: d) }
        let km = try KMeans.bestOfRestarts(restarts) { r in
            try KMeans(k: representatives, iterations: 20, seed: seed)
                .run(x, rows: rows, dimension: d, offset: offset, total: total, stream: r, communicator: comm)
        }
        let groups = try SpectralMerge.groups(centroids: km.centroids, count: representatives, dimension: d,
                                              classes: classes, seed: seed)
        return try scores(km.assignments.map { groups[Int($0)] }, labels: labels, communicator: comm)
    }

    /// k-means on a UMAP layout of the features (`ManifoldClustering`, N2D), the lowest-objective of
    /// `restarts` k-means runs on the one layout; with `balanced`, also the runs refined to equal cluster
    /// sizes (`BalancedKMeans`), the refinement whose points lie nearest their centroids.
    public static func manifoldScores(features: [Float], rows: Int, dimension d: Int, offset: Int, total: Int,
                                      labels: [Int32], classes: Int, neighbours: Int, seed: UInt64, restarts: Int = 1,
                                      balanced: Bool, communicator comm: Communicator) throws -> (plain: Scores, balanced: Scores?) {
        var method = ManifoldClustering()
        method.neighbours = neighbours
        let result = try method.run(features, rows: rows, dimension: d, offset: offset, total: total, clusters: classes,
                                    restarts: restarts, seed: seed, balanced: balanced, communicator: comm)
        var plain = try scores(result.kmeans.assignments, labels: labels, communicator: comm)
        plain.cost = result.cost
        var held = try result.balanced.map { try scores($0, labels: labels, communicator: comm) }
        held?.cost = result.balancedCost
        return (plain, held)
    }

    /// How many clusters `mergedScore` over-clusters `total` images into: 300, or one per 20 images
    /// on small sets, and at least 3 per class.
    public static func representatives(total: Int, classes: Int) -> Int {
        min(total, max(3 * classes, min(300, total / 20)))
    }

    /// Every rank's assignments gathered and scored on rank 0 (zeros elsewhere). The accuracy's
    /// matching is O(k³): minutes at a few thousand classes, so the other ranks wait for it at a
    /// barrier under the watchdog's longer limit instead of in whatever collective comes next.
    static func scores(_ local: [Int32], labels: [Int32], communicator comm: Communicator) throws -> Scores {
        let all = try comm.allgatherv(local)
        var result = Scores()
        if comm.isRoot {
            if let seconds = ProcessInfo.processInfo.environment["DEEPCLUSTER_TEST_SCORING_SECONDS"].flatMap(Double.init) {
                Thread.sleep(forTimeInterval: seconds)   // test hook: a matching as long as thousands of classes take
            }
            result = Scores(nmi: ClusterMetrics.nmi(all, labels), ari: ClusterMetrics.ari(all, labels),
                            accuracy: ClusterMetrics.accuracy(labels: labels, clusters: all))
        }
        try CollectiveWatchdog.patiently { try comm.barrier() }
        return result
    }
}
