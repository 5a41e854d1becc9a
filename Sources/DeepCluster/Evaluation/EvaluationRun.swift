import Clustering
import Collective
import Datasets
import Foundation
import NN
import Tensor

/// `eval`'s whole procedure as a library run that returns its result: the splits (the probe is never
/// scored on images it trained on), k-means with k = the number of classes on the features (on a
/// UMAP layout, PCA-whitened, plain), the spectral merge of an over-clustering, the linear probe, the
/// k-NN classifier, the baselines (the randomly initialised network and the raw pixels) through the
/// same pipeline, and which clustering is the headline. The command holds the flags and prints.
public enum EvaluationRun {
    public struct Options: Sendable {
        public var data: String?, labels: String?, testData: String?, testLabels: String?
        public var format = "auto"
        public var resize: Int?, limit: Int?, testLimit: Int?
        /// Where the data has no test split: the seeded fraction the probe is scored on and never trains on.
        public var probeHoldout = 0.2
        /// The probe reads the activations after conv `probeLayer`'s ReLU (1-based).
        public var probeLayer = 5
        public var probeEpochs = 10
        public var probeLearningRate: Float = 0.01
        public var pcaDimension: Int?
        /// nil: what the checkpoint's method clusters (conv for DeepCluster-v2, trunk for DeepCluster).
        public var feature: Representation?
        /// 0: no UMAP layout.
        public var umapNeighbours = 10
        public var balanced = true
        public var kmeansRestarts = 10
        public var seed: UInt64 = 0
        public var randomInit = false
        public var baselines = false
        public var knn = false
        public init() {}
    }

    /// One network's (or the pixels') figures through the pipeline.
    public struct Scores {
        /// Each clustering by name: umap, umap_balanced, pca<P>_whitened, pca<P>, no_pca.
        public var kmeans: [(name: String, scores: ClusteringEvaluation.Scores)]
        public var spectral: ClusteringEvaluation.Scores
        public var probeTop1: Double
    }

    public struct Result {
        public var checkpointPath: String
        public var epoch: Int
        public var feature: Representation
        public var classes: Int
        public var images: Int, testImages: Int, probeTrainImages: Int
        /// True when the probe's test images were held out of the training images.
        public var heldOut: Bool
        public var pcaDimension: Int
        public var representatives: Int
        public var trained: Scores
        public var probeDimension: Int
        public var knnTop1: Double?
        /// random_init and pixels, with --baselines.
        public var baselines: [(name: String, scores: Scores)]
        /// The plain k-means of the feature: no_pca on the embedding, pca<P>_whitened on the trunk, pca<P> on conv.
        public var plainName: String
        /// The headline clustering (kmeans_nmi, kmeans_acc): the UMAP layout for DeepCluster-v2, the plain k-means for DeepCluster.
        public var headlineName: String
        public var headline: ClusteringEvaluation.Scores { trained.kmeans.first { $0.name == headlineName }!.scores }
        public var seconds: Double
    }

    /// Runs the evaluation on every rank; the result's figures are rank 0's (collectives throughout).
    /// `prepare` checks a set of images before use (the --data-check pre-scan); `log` prints on rank 0.
    public static func run(checkpoint: String, options o: Options, communicator comm: Communicator,
                           prepare: (any ImageSource) throws -> any ImageSource, log: (String) -> Void) throws -> Result {
        var (model, loaded) = try Checkpoint.openModel(checkpoint, communicator: comm) { if comm.isRoot { log($0) } }
        // By default DeepCluster's trunk (what it clusters); for DeepCluster-v2, whose own clustering is of
        // many prototypes, the convolutional features, which keep more of each image's neighbourhood.
        let isV2 = model.embeddingLayer != nil
        let feature = o.feature ?? (isV2 ? .conv : .trunk)
        if model.layer(for: feature) == nil {
            throw TrainingError.invalidConfiguration("--feature embedding needs a deepcluster-v2 checkpoint; \(loaded.path) has a top layer, not a projection head")
        }
        if o.randomInit { model = Model(architecture: model.architecture, head: model.head, seed: loaded.state.seed) }
        let channels = model.architecture.inputChannels
        let side = loaded.state.recipe.reading(o.data, resize: o.resize).minimumDecodeSide(model.architecture)
        var train = try DatasetLoader.load(data: o.data, labels: o.labels, format: o.format, train: true, channels: channels, minimumDecodeSide: side)
        if let l = o.limit { train = train.limited(to: l) }
        train = try prepare(train)
        // The probe is never scored on images it trained on: with no test split (a .npy, an image
        // folder), a seeded part of the images is held out from its training.
        let holdOut = o.testData == nil && !DatasetLoader.hasTestSplit(data: o.data, format: o.format)
        var probeTrain = train
        var test: any ImageSource
        if holdOut {
            let split = ImageSubset.holdOut(count: train.count, fraction: o.probeHoldout, seed: o.seed)
            probeTrain = ImageSubset(train, indices: split.train)
            test = ImageSubset(train, indices: split.heldOut)
        } else {
            test = try DatasetLoader.load(data: o.testData ?? o.data, labels: o.testData == nil ? o.labels : o.testLabels,
                                          format: o.format, train: false, channels: channels, minimumDecodeSide: side)
        }
        if let l = o.testLimit { test = test.limited(to: l) }
        if !holdOut { test = try prepare(test) }
        guard let rawTrainY = train.labels, let rawProbeY = probeTrain.labels, let rawTestY = test.labels else {
            throw TrainingError.invalidConfiguration("eval needs labels for the training and the test images (--labels, --test-labels)")
        }
        // k is the number of distinct labels, whatever their values (STL-10's 1…10 are 10 classes, not 11).
        let (classes, relabel) = denseLabels(rawTrainY + rawTestY)
        let trainY = rawTrainY.map(relabel), probeY = rawProbeY.map(relabel), testY = rawTestY.map(relabel)
        let transforms = try DatasetLoader.transforms(for: train, recipe: loaded.state.recipe.reading(o.data, resize: o.resize))
        let t0 = Timing.now()
        let shard = Shard.range(count: train.count, rank: comm.rank, size: comm.size)
        let tshard = Shard.range(count: test.count, rank: comm.rank, size: comm.size)
        let pshard = Shard.range(count: probeTrain.count, rank: comm.rank, size: comm.size)
        let p = o.pcaDimension ?? model.architecture.defaultPCADimension
        var probe = LinearProbe()
        probe.layer = o.probeLayer; probe.epochs = o.probeEpochs; probe.learningRate = o.probeLearningRate; probe.seed = o.seed
        /// k-means (k = classes) on features of the training shard: on a UMAP layout, PCA whitened, plain, and (pixels) none.
        func kmeans(_ feats: [Float], dim: Int, withoutPCA: Bool) throws -> [(name: String, scores: ClusteringEvaluation.Scores)] {
            var out: [(name: String, scores: ClusteringEvaluation.Scores)] = []
            if o.umapNeighbours > 0 {
                let m = try ClusteringEvaluation.manifoldScores(features: feats, rows: shard.count, dimension: dim,
                    offset: shard.lowerBound, total: train.count, labels: trainY, classes: classes, neighbours: o.umapNeighbours,
                    seed: o.seed, restarts: o.kmeansRestarts, balanced: o.balanced, communicator: comm)
                out.append(("umap", m.plain))
                if let b = m.balanced { out.append(("umap_balanced", b)) }
            }
            for whiten in [true, false] {
                let s = try ClusteringEvaluation.score(features: feats, rows: shard.count, dimension: dim, offset: shard.lowerBound,
                                                       total: train.count, labels: trainY, classes: classes, pcaDimension: p,
                                                       whiten: whiten, seed: o.seed, restarts: o.kmeansRestarts, communicator: comm)
                out.append((whiten ? "pca\(p)_whitened" : "pca\(p)", s))
            }
            if withoutPCA {
                out.append(("no_pca", try ClusteringEvaluation.score(features: feats, rows: shard.count, dimension: dim, offset: shard.lowerBound,
                                                               total: train.count, labels: trainY, classes: classes, pcaDimension: nil,
                                                               whiten: false, seed: o.seed, restarts: o.kmeansRestarts, communicator: comm)))
            }
            return out
        }
        let representatives = ClusteringEvaluation.representatives(total: train.count, classes: classes)
        /// The over-clustering merged spectrally into k = classes groups (KASP), on the L2-normalised features.
        func spectral(_ feats: [Float], dim: Int) throws -> ClusteringEvaluation.Scores {
            try ClusteringEvaluation.mergedScore(features: feats, rows: shard.count, dimension: dim, offset: shard.lowerBound,
                                                 total: train.count, labels: trainY, classes: classes, representatives: representatives,
                                                 seed: o.seed, restarts: o.kmeansRestarts, communicator: comm)
        }
        var knnTop1: Double?
        /// The clustering features and the linear probe of one network.
        func evaluate(_ m: Model) throws -> (scores: Scores, dim: Int) {
            let (at, width) = m.layer(for: feature)!
            let feats = try FeatureExtractor.extract(m, images: train, range: shard, batchSize: 256, transforms: transforms,
                                                     through: at, dimension: width)
            if o.knn && knnTop1 == nil {
                // The bank is what the probe trains on: never the queries.
                let bank = holdOut ? try FeatureExtractor.extract(m, images: probeTrain, range: pshard, batchSize: 256, transforms: transforms,
                                                                  through: at, dimension: width) : feats
                let queries = try FeatureExtractor.extract(m, images: test, range: tshard, batchSize: 256, transforms: transforms,
                                                           through: at, dimension: width)
                knnTop1 = try KNNClassifier.top1(bank: bank, bankLabels: Array(probeY[pshard]), queries: queries,
                                                 queryLabels: Array(testY[tshard]), dimension: width, communicator: comm)
            }
            let scores = try kmeans(feats, dim: width, withoutPCA: feature == .embedding)
            let merged = try spectral(feats, dim: width)
            let (ptrain, dim) = try probe.features(m, images: probeTrain, range: pshard, transforms: transforms)
            let (ptest, _) = try probe.features(m, images: test, range: tshard, transforms: transforms)
            let top1 = try probe.run(train: ptrain, trainLabels: Array(probeY[pshard]), trainTotal: probeTrain.count, test: ptest,
                                     testLabels: Array(testY[tshard]), dim: dim, classes: classes, communicator: comm)
            return (Scores(kmeans: scores, spectral: merged, probeTop1: top1), dim)
        }
        let (trained, dim) = try evaluate(model)
        // Baselines in the same run: the randomly initialised network, and the pixels themselves
        // (the normalised clustering-pass input, flattened) through the same k-means and probe.
        var baselines: [(name: String, scores: Scores)] = []
        if o.baselines {
            let random = try evaluate(Model(architecture: model.architecture, head: model.head, seed: loaded.state.seed))
            baselines.append(("random_init", random.scores))
            let (px, pdim) = try pixels(train, range: shard, transforms: transforms)
            let (pxTest, _) = try pixels(test, range: tshard, transforms: transforms)
            let pxScores = try kmeans(px, dim: pdim, withoutPCA: true)
            let pxMerged = try spectral(px, dim: pdim)
            let pxProbe = holdOut ? try pixels(probeTrain, range: pshard, transforms: transforms).values : px
            let pxTop1 = try probe.run(train: pxProbe, trainLabels: Array(probeY[pshard]), trainTotal: probeTrain.count, test: pxTest,
                                       testLabels: Array(testY[tshard]), dim: pdim, classes: classes, communicator: comm)
            baselines.append(("pixels", Scores(kmeans: pxScores, spectral: pxMerged, probeTop1: pxTop1)))
        }
        // Plain k-means: on the embedding without PCA, as DeepCluster-v2's spherical k-means clusters it;
        // on the trunk after PCA-whitening, as DeepCluster clusters it; on conv features after PCA.
        let plainName = feature == .embedding ? "no_pca" : feature == .trunk ? "pca\(p)_whitened" : "pca\(p)"
        // The headline: for DeepCluster-v2 (--preset recommended), k-means on the UMAP layout (N2D); for
        // DeepCluster, its own k-means.
        let headlineName = isV2 && o.umapNeighbours > 0 ? (o.balanced ? "umap_balanced" : "umap") : plainName
        return Result(checkpointPath: loaded.path, epoch: loaded.state.epoch, feature: feature, classes: classes, images: train.count,
                      testImages: test.count, probeTrainImages: probeTrain.count, heldOut: holdOut, pcaDimension: p,
                      representatives: representatives, trained: trained, probeDimension: dim, knnTop1: knnTop1,
                      baselines: baselines, plainName: plainName, headlineName: headlineName, seconds: Timing.now() - t0)
    }

    /// The clustering-pass input of images `range`, flattened to rows of C·H·W values.
    public static func pixels(_ set: any ImageSource, range: Range<Int>, transforms: Transforms) throws -> (values: [Float], dim: Int) {
        let t = Tensor(shape: [0])
        try transforms.batch(set, indices: Array(range)[...], augment: false, seed: 0, epoch: 0, into: t)
        let c = t.shape[0], n = t.shape[1], hw = t.shape[2] * t.shape[3], dim = c * hw
        var out = [Float](repeating: 0, count: n * dim)
        for ch in 0..<c { for i in 0..<n { for j in 0..<hw { out[i * dim + ch * hw + j] = t[(ch * n + i) * hw + j] } } }
        return (out, dim)
    }

    /// The number of distinct label values and a map of each onto 0..<count in their order.
    public static func denseLabels(_ labels: [Int32]) -> (count: Int, map: (Int32) -> Int32) {
        let values = Array(Set(labels)).sorted()
        var index: [Int32: Int32] = [:]
        for (i, v) in values.enumerated() { index[v] = Int32(i) }
        return (values.count, { index[$0] ?? 0 })
    }
}
