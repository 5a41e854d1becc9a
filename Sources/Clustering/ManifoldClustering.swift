import Collective
import Tensor

/// k-means on a UMAP layout of the features, as N2D clusters (McConville, Santos-Rodríguez, Piechocki &
/// Craddock, "N2D: (Not Too) Deep Clustering via Clustering the Local Manifold of an Autoencoded
/// Embedding", ICPR 2020: UMAP to as many dimensions as clusters, min_dist 0, then the clustering),
/// over points spread across ranks. k-means alone cuts the feature space into convex cells; a class
/// that lies along a curved or elongated region (a garment at many sizes and shades) is cut across.
/// The layout keeps each point's neighbourhood and lets such regions gather.
///
/// The steps, every one distributed: L2-normalise the features and project them on their first
/// `pcaDimension` principal components (PCA, not whitened); exact `neighbours`-nearest neighbours
/// (`NearestNeighbours`); UMAP's graph (`FuzzySimplicialSet`) and layout in `layoutDimension`
/// dimensions from the first principal components (`ManifoldEmbedding`); k-means on the layout,
/// each run seeded by k-means++, the lowest objective of `restarts` runs; with `balanced`, each run's
/// centroids also refined by k-means held to equal cluster sizes (`BalancedKMeans`), the refinement
/// whose points lie nearest their centroids kept.
public struct ManifoldClustering: Sendable {
    public var neighbours = 10
    public var pcaDimension = 256
    public var layoutDimension = 10
    /// Layout epochs (nil: umap-learn's default).
    public var layoutEpochs: Int?
    public var kmeansIterations = 100

    public init() {}

    public struct Result {
        /// The best k-means run on the layout (assignments of this rank's points).
        public var kmeans: KMeans.Result
        /// This rank's rows of the layout, rows × layoutDimension.
        public var layout: [Float]
        /// With `balanced`: the clusters held to equal sizes (`BalancedKMeans`) of lowest cost over the runs.
        public var balanced: [Int32]?
        /// The points' mean squared distance to their centroid on the layout: the best k-means run's, and
        /// (with `balanced`) the equal-size clusters'. What equal sizes cost in fit, read without labels.
        public var cost: Double
        public var balancedCost: Double?
    }

    public func run(_ features: [Float], rows: Int, dimension d: Int, offset: Int, total: Int, clusters k: Int,
                    restarts: Int, seed: UInt64, balanced: Bool = false, communicator comm: Communicator?) throws -> Result {
        var x = features
        x.withUnsafeMutableBufferPointer { L2.normalizeRows($0.baseAddress!, rows: rows, columns: d) }
        let p = min(pcaDimension, d)
        let pca = try x.withUnsafeBufferPointer {
            try PCAWhitening(fitting: $0.baseAddress!, rows: rows, columns: d, dimension: p, whiten: false, communicator: comm)
        }
        var projected = [Float](repeating: 0, count: rows * p)
        x.withUnsafeBufferPointer { src in
            projected.withUnsafeMutableBufferPointer { pca.apply(src.baseAddress!, rows: rows, into: $0.baseAddress!, normalize: false) }
        }
        x = []
        let nn = try projected.withUnsafeBufferPointer {
            try NearestNeighbours.exact($0.baseAddress!, rows: rows, dimension: p, offset: offset, total: total,
                                        k: min(neighbours, total), communicator: comm)
        }
        let graph = try FuzzySimplicialSet(neighbours: nn, rows: rows, offset: offset, communicator: comm)
        let dim = min(layoutDimension, p)
        var initial = [Float](repeating: 0, count: rows * dim)
        for i in 0..<rows { for t in 0..<dim { initial[i * dim + t] = projected[i * p + t] } }
        let embedding = ManifoldEmbedding(seed: seed, dimension: dim, epochs: layoutEpochs)
        let layout = try embedding.layout(graph, initial: initial, rows: rows, offset: offset, total: total, communicator: comm)
        var runs: [KMeans.Result] = []
        for r in 0..<max(restarts, 1) {
            runs.append(try layout.withUnsafeBufferPointer { y in
                let start = try KMeans.plusPlusIndices(y.baseAddress!, rows: rows, dimension: dim, offset: offset, total: total,
                                                       k: k, seed: seed, stream: r, communicator: comm)
                return try KMeans(k: k, iterations: kmeansIterations, seed: seed)
                    .run(y.baseAddress!, rows: rows, dimension: dim, offset: offset, total: total, stream: r, communicator: comm,
                         initialIndices: start)
            })
        }
        let best = KMeans.best(of: runs)
        // Held to equal sizes from each run's centroids under one ε (from the best run's spread); the
        // assignment nearest its centroids is kept.
        var equal: BalancedKMeans.Result?
        if balanced {
            let method = BalancedKMeans()
            let epsilon = method.relativeEpsilon * best.objectives.last! / Double(total)
            // Runs that ended in the same partition (the same objective) are refined once.
            var seen: [Double] = []
            for run in runs {
                let objective = run.objectives.last!
                if seen.contains(where: { abs($0 - objective) <= 1e-9 * max(abs(objective), 1) }) { continue }
                seen.append(objective)
                let held = try layout.withUnsafeBufferPointer {
                    try method.run($0.baseAddress!, rows: rows, dimension: dim, total: total, centroids: run.centroids, k: k,
                                   epsilon: epsilon, communicator: comm)
                }
                if equal == nil || held.cost < equal!.cost { equal = held }
            }
        }
        return Result(kmeans: best, layout: layout, balanced: equal?.assignments, cost: best.objectives.last! / Double(total),
                      balancedCost: equal?.cost)
    }
}
