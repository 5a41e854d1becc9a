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
    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var dataCheck: DataCheckOptions
    @Flag(name: .customLong("random-init"), help: "Evaluate the randomly initialised network of the checkpoint's architecture instead (a baseline).") var randomInit = false
    @Flag(help: "Also evaluate, in the same run, the randomly initialised network and the raw pixels (k-means and linear probe).") var baselines = false
    @Flag(help: "Also score a weighted k-NN classifier (k = 200, T = 0.07, cosine; InstDisc, solo-learn) on the --feature features: the training images (the probe's) as the bank, the test images as queries; knn_top1 in the JSON.") var knn = false
    @Flag(help: "Print one JSON object.") var json = false

    /// One clustering's line: k-means on a UMAP layout, or on (PCA'd) L2-normalised features.
    static func kmeansLine(_ name: String, _ s: ClusteringEvaluation.Scores, classes: Int, neighbours: Int) -> String {
        let on = name == "umap" ? "a UMAP layout (\(neighbours) neighbours, 10 dimensions) of the features"
            : name == "umap_balanced" ? "the same layout, clusters of equal size" : "\(name) + L2"
        return String(format: "  k-means k=%d on %@: NMI %.4f  ARI %.4f  accuracy %.4f", classes, on, s.nmi, s.ari, s.accuracy)
            + (s.cost.map { String(format: "  cost %.4g", $0) } ?? "")
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
        var o = EvaluationRun.Options()
        o.data = data; o.labels = labels; o.testData = testData; o.testLabels = testLabels; o.format = format
        o.resize = resize; o.limit = limit; o.testLimit = testLimit; o.probeHoldout = probeHoldout; o.probeLayer = layer
        o.probeEpochs = probeEpochs; o.probeLearningRate = probeLR; o.pcaDimension = pcaDim
        o.feature = feature.flatMap(Representation.init(rawValue:)); o.umapNeighbours = umapNeighbours; o.balanced = balance == "equal"
        o.kmeansRestarts = kmeansRestarts; o.seed = seed; o.randomInit = randomInit; o.baselines = baselines; o.knn = knn
        runtime.run { comm in
            let r = try EvaluationRun.run(checkpoint: checkpoint, options: o, communicator: comm,
                                          prepare: { try dataCheck.prepare($0, communicator: comm).images }, log: { print($0) })
            guard comm.isRoot else { return }
            if json { emitJSON(r, comm) } else { printText(r) }
        }
    }

    /// The one JSON object of `eval --json` (the contract of ../shared/CLI.md).
    func emitJSON(_ r: EvaluationRun.Result, _ comm: Communicator) {
        let head = r.headline
        var fields: [(String, Any)] = [("kmeans_nmi", head.nmi), ("kmeans_ari", head.ari), ("kmeans_acc", head.accuracy)]
        for (name, s) in r.trained.kmeans { fields.append(("kmeans_\(name)", Self.fields(s))) }
        fields += [("spectral_nmi", r.trained.spectral.nmi), ("spectral_ari", r.trained.spectral.ari), ("spectral_acc", r.trained.spectral.accuracy),
                   ("spectral_representatives", r.representatives)]
        for (name, b) in r.baselines {
            var o: [(String, Any)] = b.kmeans.map { ($0.name, Self.fields($0.scores)) }
            o.append(("spectral", Self.fields(b.spectral)))
            o.append(("probe_top1", b.probeTop1))
            fields.append(("baseline_\(name)", o))
        }
        if let k = r.knnTop1 { fields.append(("knn_top1", k)) }
        fields += [("probe_top1", r.trained.probeTop1), ("probe_layer", probeLayer), ("probe_dim", r.probeDimension), ("probe_epochs", probeEpochs),
                   ("kmeans_restarts", kmeansRestarts), ("feature", r.feature.rawValue), ("kmeans_headline", "\(r.feature.rawValue) \(r.headlineName)"),
                   ("checkpoint", r.checkpointPath), ("epoch", r.epoch), ("random_init", randomInit ? "true" : "false"),
                   ("classes", r.classes), ("images", r.images), ("test_images", r.testImages), ("probe_train_images", r.probeTrainImages),
                   ("probe_test", r.heldOut ? "held_out" : "test_split"), ("ranks", comm.size), ("seconds", r.seconds)]
        var report = BenchReport()
        for (k, v) in fields { report.add(k, v) }
        report.emit(comm, json: true)
    }

    /// The readable report: each clustering, the probe, the baselines and the table beside them.
    func printText(_ r: EvaluationRun.Result) {
        let classes = r.classes, feature = r.feature
        let probeSource = r.heldOut ? String(format: "%d images held out of --data (%.0f%%, seed %d); the probe trains on the other %d",
                                             r.testImages, probeHoldout * 100, seed, r.probeTrainImages)
                                    : "\(r.testImages) images of the test split"
        print("eval of \(r.checkpointPath)\(randomInit ? " (random initialisation)" : "") on \(r.images) images, \(classes) classes, \(feature.rawValue) features:")
        for (name, s) in r.trained.kmeans { print(Self.kmeansLine(name, s, classes: classes, neighbours: umapNeighbours)) }
        let spectralLine = "  %d k-means clusters merged spectrally into %d (KASP) on %@: NMI %.4f  ARI %.4f  accuracy %.4f"
        let merged = r.trained.spectral
        print(String(format: spectralLine, r.representatives, classes, feature.rawValue, merged.nmi, merged.ari, merged.accuracy))
        print(String(format: "  linear probe on %@ (%d dims, %d epochs): top-1 %.4f on %@", probeLayer, r.probeDimension, probeEpochs, r.trained.probeTop1, probeSource))
        if let k = r.knnTop1 { print(String(format: "  weighted k-NN (k=200, T=0.07) on the %@ features: top-1 %.4f on %@", feature.rawValue, k, probeSource)) }
        for (name, b) in r.baselines {
            print("baseline \(name == "pixels" ? "raw pixels (normalised, flattened)" : "random initialisation"):")
            for (n, x) in b.kmeans { print(Self.kmeansLine(n, x, classes: classes, neighbours: umapNeighbours)) }
            print(String(format: spectralLine, r.representatives, classes, name == "pixels" ? "pixels" : feature.rawValue, b.spectral.nmi, b.spectral.ari, b.spectral.accuracy))
            print(String(format: "  linear probe: top-1 %.4f", b.probeTop1))
        }
        guard !r.baselines.isEmpty else { return }
        // What was learned, beside what needs no training, through the same clusterings and probe.
        let headlineName = r.headlineName, plainName = r.plainName
        let how = headlineName == "umap_balanced" ? "a UMAP layout of the \(feature.rawValue) features, clusters of equal size"
            : headlineName == "umap" ? "k-means on a UMAP layout of the \(feature.rawValue) features (N2D)"
            : "k-means on the \(feature.rawValue) features, \(headlineName)"
        print("\nwhat the network learned (k=\(classes) clusters of \(r.images) images against their labels; headline: \(how); probe on \(r.testImages) held-out images):")
        let columns = [("UMAP, equal sizes", "umap_balanced"), ("UMAP + k-means", "umap"), ("k-means (\(plainName))", plainName)]
            .filter { c in r.trained.kmeans.contains { $0.name == c.1 } }
        func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
        print(pad("", 25) + columns.map { pad($0.0, 20) }.joined() + "linear")
        print(pad("  features", 25) + columns.map { _ in pad("NMI    accuracy", 20) }.joined() + "probe")
        func line(_ what: String, _ sc: [(name: String, scores: ClusteringEvaluation.Scores)], _ t: Double) {
            let cells = columns.map { c -> String in
                guard let s = sc.first(where: { $0.name == c.1 })?.scores else { return pad("  –      –", 20) }
                return pad(String(format: "%5.3f  %5.3f", s.nmi, s.accuracy), 20)
            }
            print("  " + pad(what, 23) + cells.joined() + String(format: "%5.3f", t))
        }
        line("trained, epoch \(r.epoch)", r.trained.kmeans, r.trained.probeTop1)
        for (name, b) in r.baselines where !b.kmeans.isEmpty {
            line(name == "pixels" ? "raw pixels" : "random network", b.kmeans, b.probeTop1)
        }
    }
}
