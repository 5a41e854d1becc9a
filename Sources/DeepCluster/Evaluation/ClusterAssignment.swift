import Clustering
import Datasets
import Foundation
import NN
import Tensor

/// Where images belong among a checkpoint's clusters (`deepcluster assign`, `gallery`).
///
/// DeepCluster: the image's clustering feature (the classifier's last Linear, before or after its
/// ReLU as the recipe says) PCA-whitened and L2-normalised with the epoch's PCA, then the nearest of
/// the epoch's k-means centroids; the score is the squared distance (lower is closer). DeepCluster-v2:
/// the L2-normalised embedding against each head's prototypes (the epoch's spherical k-means
/// centroids), the highest cosine; the score is that cosine (higher is closer). Both also give the
/// runner-up. On the points k-means clustered, both rules are k-means' own final assignment.
public struct ClusterAssignment {
    /// heads × rows each: the cluster, its score, the runner-up and its score.
    public var clusters: [Int32]
    public var scores: [Float]
    public var runnerUp: [Int32]
    public var runnerUpScores: [Float]
    public let heads: Int
    public let rows: Int
    /// True when a higher score is closer (cosine), false for distances.
    public let higherIsCloser: Bool

    /// What a DeepCluster checkpoint keeps of its clustering.
    public static func checkpointArrays(pca: PCAWhitening, centroids: [Float]) -> [String: (values: [Float], shape: [Int])] {
        [
            "pca_mean.npy": (pca.mean, [pca.inputDimension]),
            "pca_projection.npy": (pca.projection, [pca.inputDimension, pca.dimension]),
            "pca_eigenvalues.npy": (pca.eigenvalues.map { Float($0) }, [pca.eigenvalues.count]),
            "centroids.npy": (centroids, [centroids.count / max(pca.dimension, 1), pca.dimension]),
        ]
    }

    /// A DeepCluster checkpoint's PCA and centroids; an error naming what is missing for older ones.
    public static func clustering(of loaded: Checkpoint.Loaded) throws -> (pca: PCAWhitening, centroids: [Float]) {
        let names = ["pca_mean.npy", "pca_projection.npy", "pca_eigenvalues.npy", "centroids.npy"]
        let missing = names.filter { loaded.arrays[$0] == nil }
        guard missing.isEmpty, let mean = try loaded.array(names[0]), let projection = try loaded.array(names[1]),
              let eigenvalues = try loaded.array(names[2]), let centroids = try loaded.array(names[3]) else {
            throw TrainingError.invalidConfiguration("\(loaded.path) holds no clustering to assign to (\(missing.joined(separator: ", ")) missing): it was written before checkpoints kept their PCA and centroids; train one more epoch with --resume to write a checkpoint that has them")
        }
        guard projection.shape.count == 2, projection.shape[0] == mean.floats.count, centroids.shape.count == 2,
              centroids.shape[1] == projection.shape[1] else {
            throw TrainingError.invalidConfiguration("\(loaded.path): the PCA and centroids do not fit together (\(projection.shape), \(centroids.shape))")
        }
        return (PCAWhitening(mean: mean.floats, projection: projection.floats, eigenvalues: eigenvalues.floats.map(Double.init)), centroids.floats)
    }

    /// The images `range` of `images` placed among the checkpoint's clusters.
    public static func assign(model: Model, loaded: Checkpoint.Loaded, images: any ImageSource, range: Range<Int>,
                              transforms: Transforms, batchSize: Int = 256, workers: Int = 1) throws -> ClusterAssignment {
        let recipe = loaded.state.recipe
        if let at = model.embeddingLayer {
            let d = model.embeddingDimension
            let z = try FeatureExtractor.extract(model, images: images, range: range, batchSize: batchSize, workers: workers,
                                                 transforms: transforms, through: at, dimension: d)
            let heads = model.head.clusters.indices.map { (centres: model.prototypes(head: $0), k: model.head.clusters[$0]) }
            return nearest(z, rows: range.count, dimension: d, heads: heads, cosine: true)
        }
        let (pca, centroids) = try clustering(of: loaded)
        guard pca.inputDimension == model.featureDimension else {
            throw TrainingError.invalidConfiguration("\(loaded.path): its PCA takes \(pca.inputDimension) features, the model gives \(model.featureDimension)")
        }
        let x = try FeatureExtractor.extract(model, images: images, range: range, batchSize: batchSize, workers: workers,
                                             transforms: transforms, afterReLU: recipe.clusterFeature == .postReLU)
        var y = [Float](repeating: 0, count: range.count * pca.dimension)
        x.withUnsafeBufferPointer { pca.apply($0.baseAddress!, rows: range.count, into: &y) }
        return nearest(y, rows: range.count, dimension: pca.dimension, heads: [(centroids, centroids.count / pca.dimension)], cosine: false)
    }

    /// Each row's best and second-best centre of every head: the largest x·c (`cosine`) or the smallest
    /// ‖x − c‖² (= ‖x‖² − 2x·c + ‖c‖², by sgemm in blocks). Ties go to the lower index, as k-means.
    public static func nearest(_ x: [Float], rows: Int, dimension d: Int, heads: [(centres: [Float], k: Int)], cosine: Bool) -> ClusterAssignment {
        var out = ClusterAssignment(clusters: [], scores: [], runnerUp: [], runnerUpScores: [], heads: heads.count, rows: rows, higherIsCloser: cosine)
        let block = 1024
        for (centres, k) in heads {
            var cluster = [Int32](repeating: 0, count: rows), second = [Int32](repeating: -1, count: rows)
            var best = [Float](repeating: 0, count: rows), next = [Float](repeating: 0, count: rows)
            let centreNorms = (0..<k).map { c in (0..<d).reduce(Float(0)) { $0 + centres[c * d + $1] * centres[c * d + $1] } }
            var dots = [Float](repeating: 0, count: block * k)
            var start = 0
            while start < rows {
                let m = min(block, rows - start)
                x.withUnsafeBufferPointer { xp in centres.withUnsafeBufferPointer { cp in dots.withUnsafeMutableBufferPointer { dp in
                    BLAS.sgemm(transB: true, m: m, n: k, k: d, a: xp.baseAddress! + start * d, lda: d, b: cp.baseAddress!, ldb: d, c: dp.baseAddress!, ldc: k)
                } } }
                for i in 0..<m {
                    let row = start + i
                    let norm = cosine ? 0 : (0..<d).reduce(Float(0)) { $0 + x[row * d + $1] * x[row * d + $1] }
                    // A score where lower is better, whatever the rule, for one comparison loop.
                    var b1 = Float.infinity, b2 = Float.infinity, i1 = 0, i2 = -1, seen = false
                    for c in 0..<k {
                        let v = cosine ? -dots[i * k + c] : norm - 2 * dots[i * k + c] + centreNorms[c]
                        if !seen || v < b1 { if seen { b2 = b1; i2 = i1 }; b1 = v; i1 = c; seen = true } else if i2 < 0 || v < b2 { b2 = v; i2 = c }
                    }
                    cluster[row] = Int32(i1); second[row] = Int32(i2)
                    best[row] = cosine ? -b1 : max(b1, 0); next[row] = i2 < 0 ? .nan : (cosine ? -b2 : max(b2, 0))
                }
                start += m
            }
            out.clusters += cluster; out.scores += best; out.runnerUp += second; out.runnerUpScores += next
        }
        return out
    }
}
