import ArgumentParser
import DeepCluster
import Datasets

/// The options of `train` that set the recipe (what a run computes), each applied to its field by
/// name in `apply` — typed, so a search for a flag's property reaches its field, and a choice is
/// checked with the field's own message ("--method must be one of ..."). Each line counts itself, and
/// `GivenOptions.check` refuses to start when an option given reached no line.
struct RecipeOptions: ParsableArguments {
    static let d = Recipe()

    @Option(help: "Images: an IDX file (plain or .gz) or a folder of them (train-/t10k-images-idx3-ubyte, as /usr/share/datasets/fashion-mnist), CIFAR-10/100 binary batches (a .bin or the extracted folder), a folder of PNG/JPEG images (one subfolder per class, or flat), or a uint8/float32 .npy (default: Fashion-MNIST train from /usr/share/datasets/fashion-mnist).")
    var data: String?
    @Option(help: "Data format: \(DatasetLoader.formats.joined(separator: ", ")) (default: \(d.format)).") var format: String?
    @Option(help: "Labels for NMI/ARI (IDX or .npy; IDX labels are found beside the images by name; CIFAR and class folders carry their own).") var labels: String?
    @Option(help: "Resize the shorter side to N before the centre crop of the clustering pass (default: none when the images are at the architecture's input size, else input × 8/7; 0: never resize).") var resize: Int?
    @Option(help: "Training augmentation: auto, pad-crop (random crop of the 2-pixel zero-padded image) or resized-crop (RandomResizedCrop); both add a horizontal flip (default: auto — pad-crop for images at the input size, resized-crop otherwise).") var augmentation: String?
    @Option(name: .customLong("crop-scale"), help: "Smallest area fraction of the random resized crop (default: \(d.cropScale)).") var cropScale: Double?
    @Option(help: "Architecture: fmnist-alexnet, cifar-alexnet, alexnet, vgg16 (default: \(d.arch)).") var arch: String?
    @Option(help: "deepcluster (the 2018 recipe) or deepcluster-v2 (projection head, spherical k-means on a memory bank of the last epoch's embeddings, prototypes with a temperature, several heads, multi-crop); deepcluster-v2 also sets its own defaults: --heads 3, --kmeans-iters 10, --weight-decay 1e-6, --augmentation resized-crop, --dropout 0 (default: \(d.method)).") var method: String?
    @Option(help: "Probability of the classifier's dropout layers (default: the architecture's, 0.5).") var dropout: Float?
    @Option(help: "DeepCluster-v2: heads of --clusters prototypes each, clustered separately (default: 1; 3 with deepcluster-v2).") var heads: Int?
    @Option(help: "DeepCluster-v2: softmax temperature of the prototype scores (default: \(d.temperature)).") var temperature: Float?
    @Option(name: .customLong("hidden-dim"), help: "DeepCluster-v2: hidden width of the projection head (default: the trunk's feature width).") var hiddenDim: Int?
    @Option(name: .customLong("embedding-dim"), help: "DeepCluster-v2: width of the L2-normalised embedding (default: \(d.embeddingDimension)).") var embeddingDim: Int?
    @Option(help: "DeepCluster-v2: views of each image, COUNTxMIN-MAX groups of random resized crops, e.g. 2x0.14-1,4x0.05-0.14 (default: 2x<crop-scale>-1).") var crops: String?
    @Option(help: "What the first convolution sees: sobel (fixed Sobel gradients of the grey image, as the reference) or raw (the image) (default: \(d.input)).") var input: String?
    @Option(help: "Number of k-means clusters (default: from the architecture, 100 for fmnist-alexnet).") var clusters: Int?
    @Option(name: .customLong("pca-dim"), help: "PCA dimensions before k-means (default: from the architecture, 64 for fmnist-alexnet).") var pcaDim: Int?
    @Option(name: .customLong("kmeans-iters"), help: "k-means iterations (default: \(d.kmeansIterations)).") var kmeansIters: Int?
    @Option(name: .customLong("cluster-feature"), help: "Cluster the classifier's last Linear output before its ReLU (pre-relu, as the reference) or after it (post-relu, as the PyTorch peer) (default: \(d.clusterFeature)).") var clusterFeature: String?
    @Option(name: .customLong("top-layer"), help: "DeepCluster: each epoch's top layer starts random (drawn anew, as the reference) , from centroids (the nearest cluster mean of the epoch's new clusters, as a Gaussian classifier of the features it reads, then trained) or matched (the previous epoch's trained layer, its rows given to the new clusters by a one-to-one matching of the old and new clusters that maximises their shared images) (default: \(d.topLayer)).") var topLayer: String?
    @Option(name: .customLong("pca-epsilon"), help: "Added to PCA eigenvalues before whitening, as faiss's PCAMatrix.epsilon; the PyTorch peer uses 1e-5 (default: \(d.pcaEpsilon), full whitening with eigenvalues floored at 1e-5 × the largest).") var pcaEpsilon: Double?
    @Option(help: "Epochs (default: \(d.epochs)).") var epochs: Int?
    @Option(name: .customLong("batch-size"), help: "Global batch, split over the ranks (default: \(d.batchSize)).") var batchSize: Int?
    @Option(help: "Learning rate (default: \(d.learningRate)).") var lr: Float?
    @Option(name: .customLong("lr-schedule"), help: "constant, or cosine: linear warm-up from 0 over --warmup-epochs, then cosine decay to --final-lr (default: \(d.lrSchedule)).") var lrSchedule: String?
    @Option(name: .customLong("warmup-epochs"), help: "Warm-up of the cosine schedule, in epochs (default: \(d.warmupEpochs)).") var warmupEpochs: Double?
    @Option(name: .customLong("final-lr"), help: "Learning rate at the end of the cosine schedule (default: \(d.finalLearningRate)).") var finalLR: Float?
    @Option(help: "Training colour jitter: brightness factor drawn from [1 − x, 1 + x] (default: \(d.brightness), off).") var brightness: Float?
    @Option(help: "Training colour jitter: contrast factor drawn from [1 − x, 1 + x] (default: \(d.contrast), off).") var contrast: Float?
    @Option(help: "Training colour jitter of colour images: saturation factor drawn from [1 − x, 1 + x] (default: \(d.saturation), off).") var saturation: Float?
    @Option(help: "Probability of turning a colour training view grey, as RandomGrayscale (default: \(d.grayscale), off).") var grayscale: Double?
    @Option(help: "Probability of a Gaussian blur (σ uniform in 0.1–2) in the training pass (default: \(d.blur), off).") var blur: Double?
    @Option(help: "SGD momentum (default: \(d.momentum)).") var momentum: Float?
    @Option(name: .customLong("weight-decay"), help: "Weight decay (default: \(d.weightDecay)).") var weightDecay: Float?
    @Option(help: "Seed of every generator (default: \(d.seed)).") var seed: UInt64?
    @Option(help: "Use only the first N images (quick runs).") var limit: Int?
    @Flag(name: .customLong("skip-unreadable"), help: "Train without the images the check finds unreadable (each named in the log, their count in the metrics and checkpoints) instead of refusing to start.") var skipUnreadable = false
    @Flag(name: .customLong("jpeg-draft"), help: "Decode large JPEGs at 1/2, 1/4 or 1/8 size (libjpeg's DCT scaling, as PIL's draft) while the shorter side stays at least the clustering pass's resize.") var jpegDraft = false

    /// Sets the fields of the options given; the others keep `r`'s values.
    func apply(to r: inout Recipe) throws {
        var applied = 0
        if let v = data { r.data = v; applied += 1 }
        if let v = format { r.format = v; applied += 1 }
        if let v = labels { r.labels = v; applied += 1 }
        if let v = resize { r.resize = v; applied += 1 }
        if let v = augmentation { r.augmentation = try choice(v, field: "augmentation", of: Recipe.Augmentation.self); applied += 1 }
        if let v = cropScale { r.cropScale = v; applied += 1 }
        if let v = arch { r.arch = v; applied += 1 }
        if let v = method { r.method = try choice(v, field: "method", of: Recipe.Method.self); applied += 1 }
        if let v = dropout { r.dropout = v; applied += 1 }
        if let v = heads { r.heads = v; applied += 1 }
        if let v = temperature { r.temperature = v; applied += 1 }
        if let v = hiddenDim { r.hiddenDimension = v; applied += 1 }
        if let v = embeddingDim { r.embeddingDimension = v; applied += 1 }
        if let v = crops { r.crops = v; applied += 1 }
        if let v = input { r.input = try choice(v, field: "input", of: Recipe.Input.self); applied += 1 }
        if let v = clusters { r.clusters = v; applied += 1 }
        if let v = pcaDim { r.pcaDimension = v; applied += 1 }
        if let v = kmeansIters { r.kmeansIterations = v; applied += 1 }
        if let v = clusterFeature { r.clusterFeature = try choice(v, field: "clusterFeature", of: Recipe.ClusterFeature.self); applied += 1 }
        if let v = topLayer { r.topLayer = try choice(v, field: "topLayer", of: Recipe.TopLayerStart.self); applied += 1 }
        if let v = pcaEpsilon { r.pcaEpsilon = v; applied += 1 }
        if let v = epochs { r.epochs = v; applied += 1 }
        if let v = batchSize { r.batchSize = v; applied += 1 }
        if let v = lr { r.learningRate = v; applied += 1 }
        if let v = lrSchedule { r.lrSchedule = try choice(v, field: "lrSchedule", of: LearningRateSchedule.Kind.self); applied += 1 }
        if let v = warmupEpochs { r.warmupEpochs = v; applied += 1 }
        if let v = finalLR { r.finalLearningRate = v; applied += 1 }
        if let v = brightness { r.brightness = v; applied += 1 }
        if let v = contrast { r.contrast = v; applied += 1 }
        if let v = saturation { r.saturation = v; applied += 1 }
        if let v = grayscale { r.grayscale = v; applied += 1 }
        if let v = blur { r.blur = v; applied += 1 }
        if let v = momentum { r.momentum = v; applied += 1 }
        if let v = weightDecay { r.weightDecay = v; applied += 1 }
        if let v = seed { r.seed = v; applied += 1 }
        if let v = limit { r.limit = v; applied += 1 }
        if skipUnreadable { r.skipUnreadable = true; applied += 1 }
        if jpegDraft { r.jpegDraft = true; applied += 1 }
        try GivenOptions.check(self, applied: applied)
    }
}

/// A choice flag's value as its field's type, or the field's error (`ConfigurationFlags.describe`
/// turns the field back into the flag).
func choice<T: RawRepresentable & CaseIterable>(_ text: String, field: String, of type: T.Type) throws -> T where T.RawValue == String {
    guard let value = T(rawValue: text) else {
        throw TrainingError.invalidValue(field: field, "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
    }
    return value
}
