/// Named bundles of settings (`--preset`); flags given on the command line override them.
///
/// - `reference`: DeepCluster's recipe as published (the defaults): Sobel input, the automatic
///   augmentation (pad-crop + flip at the input size), no jitter or blur, constant lr.
/// - `fmnist`: what made the features beat the random network and the raw pixels on Fashion-MNIST
///   (README, "Beyond the reference recipe"): raw input instead of Sobel, RandomResizedCrop from 20%
///   of the image, brightness/contrast jitter ±0.4, cosine learning rate after a 1-epoch warm-up,
///   10 epochs.
/// - `recommended`: `fmnist-v2` scaled to the data by rules (`RecommendedPreset`); its data-dependent
///   values are set once the data is known (`RecommendedPreset.adapt`).
/// - `recommended-v1`: `fmnist` (DeepCluster, the paper's method) scaled to the data by the same rules,
///   with its own learning rate and length (`RecommendedPreset`).
/// - `fmnist-v2`: `fmnist` as DeepCluster-v2 (three heads of 30 prototypes, memory bank, two crops
///   from 20%), lr 0.15, 30 epochs (README, "DeepCluster-v2").
public enum TrainingPreset {
    public static let names = ["recommended", "recommended-v1", "reference", "fmnist", "fmnist-v2"]

    /// What the deepcluster-v2 method brings with it (`swav/scripts/deepclusterv2_*.sh`): three heads,
    /// 10 k-means iterations, weight decay 1e-6, random resized crops, no dropout (SwAV's ResNet has none).
    public static func applyV2Defaults(to c: inout Recipe) {
        c.method = .deepclusterV2
        c.heads = 3
        c.kmeansIterations = 10
        c.weightDecay = 1e-6
        c.augmentation = .resizedCrop
        c.dropout = 0
    }

    public static func apply(_ name: String, to c: inout Recipe) throws {
        switch name {
        case "reference":
            let d = Recipe()
            c.method = d.method; c.heads = d.heads; c.crops = d.crops; c.dropout = d.dropout
            c.kmeansIterations = d.kmeansIterations; c.weightDecay = d.weightDecay
            c.clusters = d.clusters; c.learningRate = d.learningRate
            c.input = d.input; c.augmentation = d.augmentation; c.cropScale = d.cropScale
            c.brightness = d.brightness; c.contrast = d.contrast; c.blur = d.blur
            c.lrSchedule = d.lrSchedule; c.warmupEpochs = d.warmupEpochs; c.finalLearningRate = d.finalLearningRate
        case "fmnist":
            c.input = .raw
            c.augmentation = .resizedCrop
            c.cropScale = 0.2
            c.brightness = 0.4
            c.contrast = 0.4
            c.lrSchedule = .cosine
            c.warmupEpochs = 1
            c.epochs = 10
        case "recommended":
            try RecommendedPreset.applyFixed(to: &c)
        case "recommended-v1":
            try RecommendedPreset.applyFixedV1(to: &c)
        case "fmnist-v2":
            try apply("fmnist", to: &c)
            applyV2Defaults(to: &c)
            c.clusters = 30
            c.learningRate = 0.15
            c.epochs = 30
        default:
            throw TrainingError.invalidValue(field: "preset", "must be one of \(names.joined(separator: ", ")), got '\(name)'")
        }
    }
}
