import ArgumentParser
import Clustering
import Collective
import DeepCluster
import Datasets
import Foundation
import NN
import Tensor

/// `deepcluster eval`: how good the learned features are, against labels. k-means with k = number
/// of classes on the final features (PCA-whitened and plain), and the reference's linear probe.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval",
        abstract: "Linear probe and k-means (k = classes) on a checkpoint's features, against the labels.")

    @Option(help: "A checkpoint directory, or a --checkpoint-dir (its newest complete checkpoint).") var checkpoint: String
    @Option(help: "Training images for the probe and k-means (default: Fashion-MNIST train).") var data: String?
    @Option(help: "Labels of --data.") var labels: String?
    @Option(name: .customLong("test-data"), help: "Test images for the probe (default: Fashion-MNIST t10k).") var testData: String?
    @Option(name: .customLong("test-labels"), help: "Labels of --test-data.") var testLabels: String?
    @Option(help: "Data format: \(DatasetLoader.formats.joined(separator: ", ")) (default: auto).") var format = "auto"
    @Option(help: "Resize the shorter side to N before the centre crop (default: as train; 0: never).") var resize: Int?
    @Option(help: "Use the first N training images only.") var limit: Int?
    @Option(name: .customLong("test-limit"), help: "Use the first N test images only.") var testLimit: Int?
    @Option(name: .customLong("probe-holdout"), help: "Where --data has no test split and --test-data is not given: the seeded fraction of the images the probe is scored on, never trained on (default: 0.2).") var probeHoldout = 0.2
    @Option(name: .customLong("probe-layer"), help: "Probe the activations after this conv's ReLU, e.g. conv5 (default: conv5).") var probeLayer = "conv5"
    @Option(name: .customLong("probe-epochs"), help: "Probe training epochs (default: 10).") var probeEpochs = 10
    @Option(name: .customLong("probe-lr"), help: "Probe learning rate (default: 0.01).") var probeLR: Float = 0.01
    @Option(name: .customLong("pca-dim"), help: "PCA dimension before k-means (default: the architecture's, 64 for fmnist-alexnet).") var pcaDim: Int?
    @Option(help: "Features for k-means: conv (the convolutional trunk's last pooled maps, flattened), trunk (the classifier's last Linear, before its ReLU) or embedding (DeepCluster-v2's L2-normalised projection, what its k-means clusters) (default: what the checkpoint's method clusters: embedding for deepcluster-v2, trunk for deepcluster).") var feature: String?
    @Option(name: .customLong("umap-neighbours"), help: "Also k-means on a UMAP layout of the features (N2D) with this many neighbours; 0: not (default: 10).") var umapNeighbours = 10
    @Option(help: "On the UMAP layout, also k-means held to equal cluster sizes (equal: SeLa's and SwAV's equipartition, which assumes classes of about equal size) or not (none) (default: equal).") var balance = "equal"
    @Option(name: .customLong("kmeans-restarts"), help: "k-means runs from different initial centroids; the lowest objective is scored (default: 10).") var kmeansRestarts = 10
    @Option(help: "Seed of the evaluation's k-means and probe (default: 0).") var seed: UInt64 = 0
    @Option(help: "BLAS threads per rank (default: cores ÷ ranks on the node).") var threads: Int?
    @OptionGroup var kernels: KernelOptions
    @OptionGroup var dataCheck: DataCheckOptions
    @Flag(name: .customLong("random-init"), help: "Evaluate the randomly initialised network of the checkpoint's architecture instead (a baseline).") var randomInit = false
    @Flag(help: "Also evaluate, in the same run, the randomly initialised network and the raw pixels (k-means and linear probe).") var baselines = false
    @Flag(help: "Also score a weighted k-NN classifier (k = 200, T = 0.07, cosine; InstDisc, solo-learn) on the --feature features: the training images (the probe's) as the bank, the test images as queries; knn_top1 in the JSON.") var knn = false
    @Flag(help: "Print one JSON object.") var json = false

    /// The clustering-pass input of images `range`, flattened to rows of C·H·W values.
    static func pixels(_ set: any ImageSource, range: Range<Int>, transforms: Transforms) throws -> (values: [Float], dim: Int) {
        let t = Tensor(shape: [0])
        try transforms.batch(set, indices: Array(range)[...], augment: false, seed: 0, epoch: 0, into: t)
        let c = t.shape[0], n = t.shape[1], hw = t.shape[2] * t.shape[3], dim = c * hw
        var out = [Float](repeating: 0, count: n * dim)
        for ch in 0..<c { for i in 0..<n { for j in 0..<hw { out[i * dim + ch * hw + j] = t[(ch * n + i) * hw + j] } } }
        return (out, dim)
    }

    /// One clustering's line: k-means on a UMAP layout, or on (PCA'd) L2-normalised features.
    static func kmeansLine(_ name: String, _ s: ClusteringEvaluation.Scores, classes: Int, neighbours: Int) -> String {
        let on = name == "umap" ? "a UMAP layout (\(neighbours) neighbours, 10 dimensions) of the features"
            : name == "umap_balanced" ? "the same layout, clusters of equal size" : "\(name) + L2"
        return String(format: "  k-means k=%d on %@: NMI %.4f  ARI %.4f  accuracy %.4f", classes, on, s.nmi, s.ari, s.accuracy)
            + (s.cost.map { String(format: "  cost %.4g", $0) } ?? "")
    }

    /// The number of distinct label values and a map of each onto 0..<count in their order.
    static func denseLabels(_ labels: [Int32]) -> (count: Int, map: (Int32) -> Int32) {
        let values = Array(Set(labels)).sorted()
        var index: [Int32: Int32] = [:]
        for (i, v) in values.enumerated() { index[v] = Int32(i) }
        return (values.count, { index[$0] ?? 0 })
    }

    /// One clustering's JSON object: nmi, ari, acc, and the layout's cost where there is one.
    static func fields(_ s: ClusteringEvaluation.Scores) -> [(String, Any)] {
        [("nmi", s.nmi), ("ari", s.ari), ("acc", s.accuracy)] + (s.cost.map { [("cost", $0)] } ?? [])
    }

    func run() throws {
        guard probeLayer.hasPrefix("conv"), let layer = Int(probeLayer.dropFirst(4)), layer >= 1 else {
            throw ValidationError("--probe-layer must be conv1, conv2, …; got '\(probeLayer)'")
        }
        guard probeHoldout > 0 && probeHoldout < 1 else { throw ValidationError("--probe-holdout must be between 0 and 1, got \(probeHoldout)") }
        guard kmeansRestarts >= 1 else { throw ValidationError("--kmeans-restarts must be at least 1, got \(kmeansRestarts)") }
        if let f = feature, Representation(rawValue: f) == nil { throw ValidationError("--feature must be one of \(Representation.names), got '\(f)'") }
        guard ["equal", "none"].contains(balance) else { throw ValidationError("--balance must be equal or none, got '\(balance)'") }
        guard umapNeighbours == 0 || umapNeighbours >= 2 else { throw ValidationError("--umap-neighbours must be 0 (off) or at least 2, got \(umapNeighbours)") }
        MPIRuntime.run(threads: threads, kernels: kernels) { comm in
            var (model, loaded) = try Checkpoint.openModel(checkpoint, communicator: comm) { if comm.isRoot { print($0) } }
            // By default the features the checkpoint's method clusters in training.
            // By default DeepCluster's trunk (what it clusters); for DeepCluster-v2, whose own clustering is of
            // many prototypes, the convolutional features, which keep more of each image's neighbourhood.
            let isV2 = model.embeddingLayer != nil
            let feature = self.feature.flatMap(Representation.init(rawValue:)) ?? (isV2 ? .conv : .trunk)
            if model.layer(for: feature) == nil {
                throw TrainingError.invalidConfiguration("--feature embedding needs a deepcluster-v2 checkpoint; \(loaded.path) has a top layer, not a projection head")
            }
            if randomInit { model = Model(architecture: model.architecture, head: model.head, seed: loaded.state.seed) }
            let channels = model.architecture.inputChannels
            let side = loaded.state.recipe.reading(data, resize: resize).minimumDecodeSide(model.architecture)
            var train = try DatasetLoader.load(data: data, labels: labels, format: format, train: true, channels: channels, minimumDecodeSide: side)
            if let l = limit { train = train.limited(to: l) }
            train = try dataCheck.prepare(train, communicator: comm).images
            // The probe is never scored on images it trained on: with no test split (a .npy, an image
            // folder), a seeded part of the images is held out from its training.
            let holdOut = testData == nil && !DatasetLoader.hasTestSplit(data: data, format: format)
            var probeTrain = train
            var test: any ImageSource
            if holdOut {
                let split = ImageSubset.holdOut(count: train.count, fraction: probeHoldout, seed: seed)
                probeTrain = ImageSubset(train, indices: split.train)
                test = ImageSubset(train, indices: split.heldOut)
            } else {
                test = try DatasetLoader.load(data: testData ?? data, labels: testData == nil ? labels : testLabels,
                                              format: format, train: false, channels: channels, minimumDecodeSide: side)
            }
            if let l = testLimit { test = test.limited(to: l) }
            if !holdOut { test = try dataCheck.prepare(test, communicator: comm).images }
            let probeSource = holdOut ? String(format: "%d images held out of --data (%.0f%%, seed %d); the probe trains on the other %d",
                                               test.count, probeHoldout * 100, seed, probeTrain.count)
                                      : "\(test.count) images of the test split"
            guard let rawTrainY = train.labels, let rawProbeY = probeTrain.labels, let rawTestY = test.labels else {
                throw TrainingError.invalidConfiguration("eval needs labels for the training and the test images (--labels, --test-labels)")
            }
            // k is the number of distinct labels, whatever their values (STL-10's 1…10 are 10 classes, not 11).
            let (classes, relabel) = Self.denseLabels(rawTrainY + rawTestY)
            let trainY = rawTrainY.map(relabel), probeY = rawProbeY.map(relabel), testY = rawTestY.map(relabel)
            let transforms = try DatasetLoader.transforms(for: train, recipe: loaded.state.recipe.reading(data, resize: resize))
            let t0 = Timing.now()
            let shard = Shard.range(count: train.count, rank: comm.rank, size: comm.size)
            let tshard = Shard.range(count: test.count, rank: comm.rank, size: comm.size)
            let pshard = Shard.range(count: probeTrain.count, rank: comm.rank, size: comm.size)
            let p = pcaDim ?? model.architecture.defaultPCADimension
            var probe = LinearProbe()
            probe.layer = layer; probe.epochs = probeEpochs; probe.learningRate = probeLR; probe.seed = seed
            /// k-means (k = classes) on features of the training shard: PCA whitened, plain, and (pixels) none.
            func kmeans(_ feats: [Float], dim: Int, withoutPCA: Bool) throws -> [(String, ClusteringEvaluation.Scores)] {
                var out: [(String, ClusteringEvaluation.Scores)] = []
                if umapNeighbours > 0 {
                    let m = try ClusteringEvaluation.manifoldScores(features: feats, rows: shard.count, dimension: dim,
                        offset: shard.lowerBound, total: train.count, labels: trainY, classes: classes, neighbours: umapNeighbours,
                        seed: seed, restarts: kmeansRestarts, balanced: balance == "equal", communicator: comm)
                    out.append(("umap", m.plain))
                    if let b = m.balanced { out.append(("umap_balanced", b)) }
                }
                for whiten in [true, false] {
                    let s = try ClusteringEvaluation.score(features: feats, rows: shard.count, dimension: dim, offset: shard.lowerBound,
                                                           total: train.count, labels: trainY, classes: classes, pcaDimension: p,
                                                           whiten: whiten, seed: seed, restarts: kmeansRestarts, communicator: comm)
                    out.append((whiten ? "pca\(p)_whitened" : "pca\(p)", s))
                }
                if withoutPCA {
                    out.append(("no_pca", try ClusteringEvaluation.score(features: feats, rows: shard.count, dimension: dim, offset: shard.lowerBound,
                                                                   total: train.count, labels: trainY, classes: classes, pcaDimension: nil,
                                                                   whiten: false, seed: seed, restarts: kmeansRestarts, communicator: comm)))
                }
                return out
            }
            let representatives = ClusteringEvaluation.representatives(total: train.count, classes: classes)
            /// The over-clustering merged spectrally into k = classes groups (KASP), on the L2-normalised features.
            func spectral(_ feats: [Float], dim: Int) throws -> ClusteringEvaluation.Scores {
                try ClusteringEvaluation.mergedScore(features: feats, rows: shard.count, dimension: dim, offset: shard.lowerBound,
                                                     total: train.count, labels: trainY, classes: classes, representatives: representatives,
                                                     seed: seed, restarts: kmeansRestarts, communicator: comm)
            }
            var knnTop1: Double?
            /// The clustering features and the linear probe of one network.
            func evaluate(_ m: Model) throws -> (scores: [(String, ClusteringEvaluation.Scores)], spectral: ClusteringEvaluation.Scores, top1: Double, dim: Int) {
                let (at, width) = m.layer(for: feature)!
                let feats = try FeatureExtractor.extract(m, images: train, range: shard, batchSize: 256, transforms: transforms,
                                                         through: at, dimension: width)
                if knn && knnTop1 == nil {
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
                return (scores, merged, top1, dim)
            }
            let (scores, merged, top1, dim) = try evaluate(model)
            // Baselines in the same run: the randomly initialised network, and the pixels themselves
            // (the normalised clustering-pass input, flattened) through the same k-means and probe.
            var baselines: [(String, [(String, ClusteringEvaluation.Scores)], ClusteringEvaluation.Scores, Double)] = []
            if self.baselines {
                let random = try evaluate(Model(architecture: model.architecture, head: model.head, seed: loaded.state.seed))
                baselines.append(("random_init", random.scores, random.spectral, random.top1))
                let (px, pdim) = try Self.pixels(train, range: shard, transforms: transforms)
                let (pxTest, _) = try Self.pixels(test, range: tshard, transforms: transforms)
                let pxScores = try kmeans(px, dim: pdim, withoutPCA: true)
                let pxMerged = try spectral(px, dim: pdim)
                let pxProbe = holdOut ? try Self.pixels(probeTrain, range: pshard, transforms: transforms).values : px
                let pxTop1 = try probe.run(train: pxProbe, trainLabels: Array(probeY[pshard]), trainTotal: probeTrain.count, test: pxTest,
                                           testLabels: Array(testY[tshard]), dim: pdim, classes: classes, communicator: comm)
                baselines.append(("pixels", pxScores, pxMerged, pxTop1))
            }
            let seconds = Timing.now() - t0
            guard comm.isRoot else { return }
            // Plain k-means: on the embedding without PCA, as DeepCluster-v2's spherical k-means clusters it;
            // on the trunk after PCA-whitening, as DeepCluster clusters it; on conv features after PCA.
            let plainName = feature == .embedding ? "no_pca" : feature == .trunk ? "pca\(p)_whitened" : "pca\(p)"
            // The headline (kmeans_nmi, kmeans_acc): for DeepCluster-v2 (--preset recommended), k-means on the
            // UMAP layout (N2D); for DeepCluster, its own k-means.
            let headlineName = isV2 && umapNeighbours > 0 ? (balance == "equal" ? "umap_balanced" : "umap") : plainName
            let head = scores.first { $0.0 == headlineName }!.1
            if json {
                var fields: [(String, Any)] = [("kmeans_nmi", head.nmi), ("kmeans_ari", head.ari), ("kmeans_acc", head.accuracy)]
                for (name, s) in scores { fields.append(("kmeans_\(name)", Self.fields(s))) }
                fields += [("spectral_nmi", merged.nmi), ("spectral_ari", merged.ari), ("spectral_acc", merged.accuracy),
                           ("spectral_representatives", representatives)]
                for (name, sc, sp, t1) in baselines {
                    var b: [(String, Any)] = sc.map { ($0.0, Self.fields($0.1)) }
                    b.append(("spectral", Self.fields(sp)))
                    b.append(("probe_top1", t1))
                    fields.append(("baseline_\(name)", b))
                }
                if let k = knnTop1 { fields.append(("knn_top1", k)) }
                fields += [("probe_top1", top1), ("probe_layer", probeLayer), ("probe_dim", dim), ("probe_epochs", probeEpochs), ("kmeans_restarts", kmeansRestarts),
                           ("feature", feature.rawValue), ("kmeans_headline", "\(feature.rawValue) \(headlineName)"), ("checkpoint", loaded.path), ("epoch", loaded.state.epoch), ("random_init", randomInit ? "true" : "false"),
                           ("classes", classes), ("images", train.count), ("test_images", test.count), ("probe_train_images", probeTrain.count),
                           ("probe_test", holdOut ? "held_out" : "test_split"), ("ranks", comm.size), ("seconds", seconds)]
                var r = BenchReport()
                for (k, v) in fields { r.add(k, v) }
                r.emit(comm, json: true)
            } else {
                print("eval of \(loaded.path)\(randomInit ? " (random initialisation)" : "") on \(train.count) images, \(classes) classes, \(feature.rawValue) features:")
                for (name, s) in scores { print(Self.kmeansLine(name, s, classes: classes, neighbours: umapNeighbours)) }
                let spectralLine = "  %d k-means clusters merged spectrally into %d (KASP) on %@: NMI %.4f  ARI %.4f  accuracy %.4f"
                print(String(format: spectralLine, representatives, classes, feature.rawValue, merged.nmi, merged.ari, merged.accuracy))
                print(String(format: "  linear probe on %@ (%d dims, %d epochs): top-1 %.4f on %@", probeLayer, dim, probeEpochs, top1, probeSource))
                if let k = knnTop1 { print(String(format: "  weighted k-NN (k=200, T=0.07) on the %@ features: top-1 %.4f on %@", feature.rawValue, k, probeSource)) }
                for (name, sc, sp, t1) in baselines {
                    print("baseline \(name == "pixels" ? "raw pixels (normalised, flattened)" : "random initialisation"):")
                    for (n, x) in sc { print(Self.kmeansLine(n, x, classes: classes, neighbours: umapNeighbours)) }
                    print(String(format: spectralLine, representatives, classes, name == "pixels" ? "pixels" : feature.rawValue, sp.nmi, sp.ari, sp.accuracy))
                    print(String(format: "  linear probe: top-1 %.4f", t1))
                }
                if !baselines.isEmpty {
                    // What was learned, beside what needs no training, through the same clusterings and probe.
                    let how = headlineName == "umap_balanced" ? "a UMAP layout of the \(feature.rawValue) features, clusters of equal size"
                        : headlineName == "umap" ? "k-means on a UMAP layout of the \(feature.rawValue) features (N2D)"
                        : "k-means on the \(feature.rawValue) features, \(headlineName)"
                    print("\nwhat the network learned (k=\(classes) clusters of \(train.count) images against their labels; headline: \(how); probe on \(test.count) held-out images):")
                    let columns = [("UMAP, equal sizes", "umap_balanced"), ("UMAP + k-means", "umap"), ("k-means (\(plainName))", plainName)]
                        .filter { c in scores.contains { $0.0 == c.1 } }
                    func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
                    print(pad("", 25) + columns.map { pad($0.0, 20) }.joined() + "linear")
                    print(pad("  features", 25) + columns.map { _ in pad("NMI    accuracy", 20) }.joined() + "probe")
                    func line(_ what: String, _ sc: [(String, ClusteringEvaluation.Scores)], _ t: Double) {
                        let cells = columns.map { c -> String in
                            guard let s = sc.first(where: { $0.0 == c.1 })?.1 else { return pad("  –      –", 20) }
                            return pad(String(format: "%5.3f  %5.3f", s.nmi, s.accuracy), 20)
                        }
                        print("  " + pad(what, 23) + cells.joined() + String(format: "%5.3f", t))
                    }
                    line("trained, epoch \(loaded.state.epoch)", scores, top1)
                    for (name, sc, _, t1) in baselines where !sc.isEmpty {
                        line(name == "pixels" ? "raw pixels" : "random network", sc, t1)
                    }
                }
            }
        }
    }
}
