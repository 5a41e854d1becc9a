import Datasets
import NN

/// Everything that defines a DeepCluster run; written beside the checkpoints as config.json.
public struct TrainingConfig: Codable, Sendable {
    public var data: String? = nil
    public var labels: String? = nil
    public var format = "auto"
    public var arch = "fmnist-alexnet"
    /// "deepcluster" (the 2018 recipe) or "deepcluster-v2" (projection head, spherical k-means on a
    /// memory bank, prototypes with a temperature, several heads, multi-crop).
    public var method = "deepcluster"
    /// Dropout probability of the classifier's dropout layers (nil: the architecture's, 0.5).
    public var dropout: Float? = nil
    /// DeepCluster-v2: heads of `clusters` prototypes each, the softmax temperature, the projection's
    /// hidden width (nil: the trunk's feature width) and output width, and the views (`MultiCrop`).
    public var heads = 1
    public var temperature: Float = 0.1
    public var hiddenDimension: Int? = nil
    public var embeddingDimension = 128
    public var crops: String? = nil
    /// What the first convolution sees: "sobel" (the reference: fixed Sobel gradients of the grey image) or "raw".
    public var input = "sobel"
    public var clusters: Int? = nil
    public var pcaDimension: Int? = nil
    public var kmeansIterations = 20
    /// "pre-relu": the classifier's last Linear output, as the reference clusters; "post-relu": after its ReLU.
    public var clusterFeature = "pre-relu"
    /// Added to the PCA eigenvalues before whitening (faiss's PCAMatrix.epsilon; 0 = full whitening).
    public var pcaEpsilon = 0.0
    public var epochs = 5
    public var batchSize = 256
    public var learningRate: Float = 0.05
    /// "constant" (the reference) or "cosine": linear warm-up over `warmupEpochs`, then cosine to `finalLearningRate`.
    public var lrSchedule = "constant"
    public var warmupEpochs = 0.0
    public var finalLearningRate: Float = 0
    /// Colour jitter of the training pass: brightness and contrast factors drawn from [1 − x, 1 + x].
    public var brightness: Float = 0
    public var contrast: Float = 0
    /// Colour images: saturation jitter from [1 − x, 1 + x], and the probability of turning a view grey.
    public var saturation: Float = 0
    public var grayscale = 0.0
    /// Probability of a Gaussian blur (σ from 0.1 to 2) in the training pass.
    public var blur = 0.0
    public var momentum: Float = 0.9
    public var weightDecay: Float = 1e-5
    public var seed: UInt64 = 31
    public var limit: Int? = nil
    /// Shorter side before the centre crop (nil: automatic — none when images are at the input size; 0: never).
    public var resize: Int? = nil
    /// Training augmentation: auto, pad-crop or resized-crop.
    public var augmentation = "auto"
    /// Smallest area fraction of the random resized crop.
    public var cropScale = 0.08
    /// Threads that decode and augment the next batches while the current one trains (0: in the step).
    public var workers = 1
    public var bucketBytes = 1 << 20
    public var checkpointDirectory: String? = nil
    public var keepCheckpoints = 3
    /// Also checkpoint every this many training steps (0: at epoch ends only).
    public var checkpointEvery = 0
    /// Per-rank log files (rank-N.log) in this directory.
    public var logDirectory: String? = nil
    public var resume = false
    /// --resume even when the flags change the saved recipe (`Recipe.swift`).
    public var resumeOverride = false
    public var metrics: String? = nil
    public var quiet = false
    /// Draw the progress line even under mpirun (whose pty makes every rank look like a terminal).
    public var progress = false

    public init() {}

    public init(from decoder: Decoder) throws {
        // Configurations written by older versions lack newer keys: those keep their defaults.
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func get<T: Decodable>(_ k: CodingKeys, _ v: inout T) throws { if let x = try c.decodeIfPresent(T.self, forKey: k) { v = x } }
        data = try c.decodeIfPresent(String.self, forKey: .data); labels = try c.decodeIfPresent(String.self, forKey: .labels)
        try get(.format, &format); try get(.arch, &arch); try get(.input, &input); try get(.method, &method)
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout); try get(.heads, &heads); try get(.temperature, &temperature)
        hiddenDimension = try c.decodeIfPresent(Int.self, forKey: .hiddenDimension); try get(.embeddingDimension, &embeddingDimension)
        crops = try c.decodeIfPresent(String.self, forKey: .crops)
        clusters = try c.decodeIfPresent(Int.self, forKey: .clusters); pcaDimension = try c.decodeIfPresent(Int.self, forKey: .pcaDimension)
        try get(.kmeansIterations, &kmeansIterations); try get(.clusterFeature, &clusterFeature); try get(.pcaEpsilon, &pcaEpsilon); try get(.epochs, &epochs)
        try get(.batchSize, &batchSize); try get(.learningRate, &learningRate); try get(.momentum, &momentum)
        try get(.lrSchedule, &lrSchedule); try get(.warmupEpochs, &warmupEpochs); try get(.finalLearningRate, &finalLearningRate)
        try get(.brightness, &brightness); try get(.contrast, &contrast); try get(.saturation, &saturation); try get(.grayscale, &grayscale); try get(.blur, &blur)
        try get(.weightDecay, &weightDecay); try get(.seed, &seed)
        limit = try c.decodeIfPresent(Int.self, forKey: .limit)
        resize = try c.decodeIfPresent(Int.self, forKey: .resize)
        try get(.augmentation, &augmentation); try get(.cropScale, &cropScale); try get(.workers, &workers)
        try get(.bucketBytes, &bucketBytes)
        checkpointDirectory = try c.decodeIfPresent(String.self, forKey: .checkpointDirectory)
        try get(.keepCheckpoints, &keepCheckpoints); try get(.checkpointEvery, &checkpointEvery); try get(.resume, &resume); try get(.resumeOverride, &resumeOverride)
        logDirectory = try c.decodeIfPresent(String.self, forKey: .logDirectory)
        metrics = try c.decodeIfPresent(String.self, forKey: .metrics); try get(.quiet, &quiet); try get(.progress, &progress)
    }

    public static let methods = ["deepcluster", "deepcluster-v2"]
    public var isV2: Bool { method == "deepcluster-v2" }

    public func architecture() throws -> Architecture {
        let a = try Architecture.named(arch).withSobel(input == "sobel")
        return dropout.map { a.withDropout($0) } ?? a
    }
    /// The model's head: DeepCluster's top layer, or DeepCluster-v2's projection and prototypes.
    public func head(_ a: Architecture) -> Model.Head {
        guard isV2 else { return .classifier(clusters: k(a)) }
        return .prototypes(hidden: hiddenDimension ?? a.featureDimension, dimension: embeddingDimension,
                           clusters: Array(repeating: k(a), count: heads))
    }
    /// DeepCluster-v2's views: --crops, else two crops of --crop-scale to the whole image.
    public func multiCrop() throws -> MultiCrop {
        try MultiCrop.parse(crops ?? "2x\(cropScale)-1")
    }
    public var schedule: LearningRateSchedule {
        LearningRateSchedule(kind: .init(rawValue: lrSchedule) ?? .constant, base: learningRate, warmupEpochs: warmupEpochs,
                             finalRate: finalLearningRate, epochs: epochs)
    }
    public func k(_ a: Architecture) -> Int { clusters ?? a.defaultClusters }
    public func pcaDim(_ a: Architecture) -> Int { pcaDimension ?? a.defaultPCADimension }

    /// Upper bounds that keep a typo from being killed for memory with no line: a global batch of
    /// 65,536 images, a million clusters, hidden and embedding widths of 65,536.
    public static let largestBatch = 1 << 16
    public static let largestClusterCount = 1 << 20
    public static let largestWidth = 1 << 16

    public func validate() throws {
        func bad(_ s: String) -> TrainingError { .invalidConfiguration(s) }
        if !Self.methods.contains(method) { throw bad("--method must be one of \(Self.methods.joined(separator: ", ")), got '\(method)'") }
        if let p = dropout, !(p >= 0 && p < 1) { throw bad("--dropout must be in [0, 1), got \(p)") }
        if heads < 1 || heads > 16 { throw bad("--heads must be between 1 and 16, got \(heads)") }
        if !isV2 && heads != 1 { throw bad("--heads is for --method deepcluster-v2; DeepCluster has one head") }
        if !isV2 && crops != nil { throw bad("--crops is for --method deepcluster-v2; DeepCluster trains on one view") }
        if !(temperature > 0 && temperature.isFinite) { throw bad("--temperature must be positive, got \(temperature)") }
        if embeddingDimension < 1 || embeddingDimension > Self.largestWidth { throw bad("--embedding-dim must be between 1 and \(Self.largestWidth), got \(embeddingDimension)") }
        if let h = hiddenDimension, h < 1 || h > Self.largestWidth { throw bad("--hidden-dim must be between 1 and \(Self.largestWidth), got \(h)") }
        if isV2 { _ = try multiCrop() }
        if !["sobel", "raw"].contains(input) { throw bad("--input must be sobel or raw, got '\(input)'") }
        if let c = clusters, c < 2 || c > Self.largestClusterCount { throw bad("--clusters must be between 2 and \(Self.largestClusterCount), got \(c)") }
        if let d = pcaDimension, d < 1 { throw bad("--pca-dim must be at least 1, got \(d)") }
        if kmeansIterations < 0 { throw bad("--kmeans-iters must be ≥ 0, got \(kmeansIterations)") }
        if epochs < 1 || epochs > 100_000 { throw bad("--epochs must be between 1 and 100000, got \(epochs)") }
        if batchSize < 1 || batchSize > Self.largestBatch { throw bad("--batch-size must be between 1 and \(Self.largestBatch), got \(batchSize)") }
        if !(learningRate > 0 && learningRate.isFinite) { throw bad("--lr must be positive and finite, got \(learningRate)") }
        if LearningRateSchedule.Kind(rawValue: lrSchedule) == nil { throw bad("--lr-schedule must be constant or cosine, got '\(lrSchedule)'") }
        if !(warmupEpochs >= 0) || warmupEpochs > Double(epochs) { throw bad("--warmup-epochs must be between 0 and --epochs, got \(warmupEpochs)") }
        if !(finalLearningRate >= 0) || finalLearningRate > learningRate { throw bad("--final-lr must be between 0 and --lr, got \(finalLearningRate)") }
        if !(brightness >= 0 && brightness < 1) || !(contrast >= 0 && contrast < 1) { throw bad("--brightness and --contrast must be in [0, 1)") }
        if !(saturation >= 0 && saturation < 1) { throw bad("--saturation must be in [0, 1), got \(saturation)") }
        if !(grayscale >= 0 && grayscale <= 1) { throw bad("--grayscale must be a probability in [0, 1], got \(grayscale)") }
        if !(blur >= 0 && blur <= 1) { throw bad("--blur must be a probability in [0, 1], got \(blur)") }
        if !(momentum >= 0 && momentum < 1) { throw bad("--momentum must be in [0, 1), got \(momentum)") }
        if !(weightDecay >= 0 && weightDecay <= 1) { throw bad("--weight-decay must be in [0, 1], got \(weightDecay)") }
        if !["pre-relu", "post-relu"].contains(clusterFeature) { throw bad("--cluster-feature must be pre-relu or post-relu, got '\(clusterFeature)'") }
        if !(pcaEpsilon >= 0 && pcaEpsilon.isFinite) { throw bad("--pca-epsilon must be ≥ 0 and finite, got \(pcaEpsilon)") }
        if let l = limit, l < 2 { throw bad("--limit must be at least 2, got \(l)") }
        if let r = resize, r < 0 { throw bad("--resize must be ≥ 0, got \(r)") }
        if !["auto", "pad-crop", "resized-crop"].contains(augmentation) { throw bad("--augmentation must be auto, pad-crop or resized-crop, got '\(augmentation)'") }
        if !(cropScale > 0 && cropScale <= 1) { throw bad("--crop-scale must be in (0, 1], got \(cropScale)") }
        if workers < 0 || workers > 64 { throw bad("--workers must be between 0 and 64, got \(workers)") }
        if checkpointEvery < 0 { throw bad("--checkpoint-every must be ≥ 0, got \(checkpointEvery)") }
        if keepCheckpoints < 1 { throw bad("--keep-checkpoints must be at least 1, got \(keepCheckpoints)") }
        if bucketBytes < 4 { throw bad("--bucket-bytes must be at least 4, got \(bucketBytes)") }
        _ = try architecture()
    }
}
