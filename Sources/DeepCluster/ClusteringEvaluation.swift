import Clustering
import Collective
import Datasets
import NN

/// k-means with k = number of classes on features spread over ranks, scored against the labels:
/// NMI, ARI and accuracy under the best one-to-one matching. Features go through PCA to `dimension`
/// (whitened or not) and L2 normalisation first, as DeepCluster clusters them.
public enum ClusteringEvaluation {
    public struct Scores: Sendable { public var nmi = 0.0, ari = 0.0, accuracy = 0.0 }

    public static func score(features: [Float], rows: Int, dimension d: Int, offset: Int, total: Int,
                             labels: [Int32], classes: Int, pcaDimension: Int?, whiten: Bool, seed: UInt64,
                             communicator comm: Communicator) throws -> Scores {
        var x = features, dim = d
        if let p = pcaDimension, p < d {
            let pca = try PCAWhitening(fitting: features, rows: rows, columns: d, dimension: p, whiten: whiten, communicator: comm)
            x = [Float](repeating: 0, count: rows * p)
            pca.apply(features, rows: rows, into: &x)
            dim = p
        } else {
            x.withUnsafeMutableBufferPointer { L2.normalizeRows($0.baseAddress!, rows: rows, columns: d) }
        }
        let km = try KMeans(k: classes, iterations: 20, seed: seed)
            .run(x, rows: rows, dimension: dim, offset: offset, total: total, epoch: 0, communicator: comm)
        let all = try comm.allgatherv(km.assignments)
        guard comm.isRoot else { return Scores() }
        return Scores(nmi: ClusterMetrics.nmi(all, labels), ari: ClusterMetrics.ari(all, labels),
                      accuracy: ClusterMetrics.accuracy(labels: labels, clusters: all))
    }
}
