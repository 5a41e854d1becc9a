import Datasets
import NN

/// A value of a recipe field chosen from a fixed list. It is written as its raw string (config.json
/// and state.json read as before), and an unknown string fails with the field and the choices.
public protocol RecipeChoice: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {}

extension RecipeChoice {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: text) else {
            throw TrainingError.invalidValue(field: decoder.codingPath.last?.stringValue ?? "\(Self.self)",
                                             "must be one of \(Self.choices), got '\(text)'")
        }
        self = value
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
    public static var choices: String {
        let names = allCases.map(\.rawValue)
        return names.joined(separator: ", ")
    }
}

/// What a run computes: the data, the model, the method, the clustering, the optimisation and the
/// augmentation — everything but where its files go, what it prints and how the work is spread
/// (`RunOptions`). Saved in every checkpoint's state.json; `--resume` refuses flags that change it.
/// Field names are the keys of config.json and state.json.
public struct Recipe: Codable, Sendable {
    public enum Method: String, RecipeChoice {
        /// The 2018 recipe: features, PCA-whitening, k-means, a classifier top layer reset every epoch.
        case deepcluster
        /// Projection head, spherical k-means on a memory bank, prototypes with a temperature, several heads, multi-crop.
        case deepclusterV2 = "deepcluster-v2"
    }
    /// What the first convolution sees: fixed Sobel gradients of the grey image (the reference) or the image.
    public enum Input: String, RecipeChoice { case sobel, raw }
    /// The clustered feature: the classifier's last Linear output before its ReLU (the reference) or after it.
    public enum ClusterFeature: String, RecipeChoice { case preReLU = "pre-relu", postReLU = "post-relu" }
    /// DeepCluster's top layer at the start of each epoch: drawn at random (the reference), set from
    /// the epoch's clusters so that it already predicts the new pseudo-labels (`CentroidTopLayer`), or
    /// the previous epoch's trained layer with its rows matched to the new clusters (`MatchedTopLayer`).
    public enum TopLayerStart: String, RecipeChoice { case random, centroids, matched }
    /// Training augmentation: automatic (pad-crop at the input size, resized-crop otherwise) or either one.
    public enum Augmentation: String, RecipeChoice { case auto, padCrop = "pad-crop", resizedCrop = "resized-crop" }

    public var data: String? = nil
    public var labels: String? = nil
    public var format = "auto"
    /// Use only the first N images.
    public var limit: Int? = nil
    /// Train without the images the pre-scan finds unreadable (each named in the log) instead of refusing to start.
    public var skipUnreadable = false
    /// Decode large JPEGs at 1/2, 1/4 or 1/8 of their size (libjpeg's DCT scaling, PIL's draft) while the
    /// shorter side stays at least the clustering pass's resize (256 for 224-px inputs).
    public var jpegDraft = false
    public var arch = "fmnist-alexnet"
    public var method = Method.deepcluster
    public var input = Input.sobel
    /// Dropout probability of the classifier's dropout layers (nil: the architecture's, 0.5).
    public var dropout: Float? = nil
    /// DeepCluster-v2: heads of `clusters` prototypes each, the softmax temperature, the projection's
    /// hidden width (nil: the trunk's feature width) and output width, and the views (`MultiCrop`).
    public var heads = 1
    public var temperature: Float = 0.1
    public var hiddenDimension: Int? = nil
    public var embeddingDimension = 128
    public var crops: String? = nil
    public var clusters: Int? = nil
    public var pcaDimension: Int? = nil
    public var kmeansIterations = 20
    public var clusterFeature = ClusterFeature.preReLU
    /// DeepCluster: how each epoch's top layer starts (random, the reference; centroids: the nearest
    /// cluster mean of the epoch's new clusters, `CentroidTopLayer`; matched: the previous epoch's
    /// layer, each new cluster taking the row of the old cluster it overlaps most, `MatchedTopLayer`).
    public var topLayer = TopLayerStart.random
    /// Added to the PCA eigenvalues before whitening (faiss's PCAMatrix.epsilon; 0 = full whitening).
    public var pcaEpsilon = 0.0
    public var epochs = 5
    public var batchSize = 256
    public var learningRate: Float = 0.05
    /// Constant (the reference) or cosine: linear warm-up over `warmupEpochs`, then cosine to `finalLearningRate`.
    public var lrSchedule = LearningRateSchedule.Kind.constant
    public var warmupEpochs = 0.0
    public var finalLearningRate: Float = 0
    public var momentum: Float = 0.9
    public var weightDecay: Float = 1e-5
    public var seed: UInt64 = 31
    /// Shorter side before the centre crop (nil: automatic — none when images are at the input size; 0: never).
    public var resize: Int? = nil
    public var augmentation = Augmentation.auto
    /// Smallest area fraction of the random resized crop.
    public var cropScale = 0.08
    /// Colour jitter of the training pass: brightness and contrast factors drawn from [1 − x, 1 + x].
    public var brightness: Float = 0
    public var contrast: Float = 0
    /// Colour images: saturation jitter from [1 − x, 1 + x], and the probability of turning a view grey.
    public var saturation: Float = 0
    public var grayscale = 0.0
    /// Probability of a Gaussian blur (σ from 0.1 to 2) in the training pass.
    public var blur = 0.0

    public init() {}

    public var isV2: Bool { method == .deepclusterV2 }

    public func architecture() throws -> Architecture {
        let a = try Architecture.named(arch).withSobel(input == .sobel)
        return dropout.map { a.withDropout($0) } ?? a
    }
    /// The model's head: DeepCluster's top layer, or DeepCluster-v2's projection and prototypes.
    public func head(_ a: Architecture) -> Model.Head {
        guard isV2 else { return .classifier(clusters: k(a)) }
        return .prototypes(hidden: hiddenDimension ?? a.featureDimension, dimension: embeddingDimension,
                           clusters: Array(repeating: k(a), count: heads))
    }
    /// DeepCluster-v2's views: `crops`, else two crops of `cropScale` to the whole image.
    public func multiCrop() throws -> MultiCrop {
        try MultiCrop.parse(crops ?? "2x\(cropScale)-1")
    }
    public var schedule: LearningRateSchedule {
        LearningRateSchedule(kind: lrSchedule, base: learningRate, warmupEpochs: warmupEpochs, finalRate: finalLearningRate, epochs: epochs)
    }
    public func k(_ a: Architecture) -> Int { clusters ?? a.defaultClusters }
    /// The shorter side JPEGs of a folder or tar shards may be decoded down to (0: full size).
    public func minimumDecodeSide(_ a: Architecture) -> Int {
        guard jpegDraft, resize != 0 else { return 0 }
        return resize ?? (a.inputSize * 8 + 6) / 7
    }
    public func pcaDim(_ a: Architecture) -> Int { pcaDimension ?? a.defaultPCADimension }
}

extension Recipe {
    /// Files written by older versions lack newer keys: those keep their defaults.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func get<T: Decodable>(_ k: CodingKeys, _ v: inout T) throws { if let x = try c.decodeIfPresent(T.self, forKey: k) { v = x } }
        func optional<T: Decodable>(_ k: CodingKeys, _ v: inout T?) throws { v = try c.decodeIfPresent(T.self, forKey: k) }
        try optional(.data, &data); try optional(.labels, &labels); try get(.format, &format); try optional(.limit, &limit)
        try get(.skipUnreadable, &skipUnreadable); try get(.jpegDraft, &jpegDraft)
        try get(.arch, &arch); try get(.method, &method); try get(.input, &input); try optional(.dropout, &dropout)
        try get(.heads, &heads); try get(.temperature, &temperature); try optional(.hiddenDimension, &hiddenDimension)
        try get(.embeddingDimension, &embeddingDimension); try optional(.crops, &crops)
        try optional(.clusters, &clusters); try optional(.pcaDimension, &pcaDimension); try get(.kmeansIterations, &kmeansIterations)
        try get(.clusterFeature, &clusterFeature); try get(.topLayer, &topLayer); try get(.pcaEpsilon, &pcaEpsilon)
        try get(.epochs, &epochs); try get(.batchSize, &batchSize); try get(.learningRate, &learningRate)
        try get(.lrSchedule, &lrSchedule); try get(.warmupEpochs, &warmupEpochs); try get(.finalLearningRate, &finalLearningRate)
        try get(.momentum, &momentum); try get(.weightDecay, &weightDecay); try get(.seed, &seed)
        try optional(.resize, &resize); try get(.augmentation, &augmentation); try get(.cropScale, &cropScale)
        try get(.brightness, &brightness); try get(.contrast, &contrast); try get(.saturation, &saturation)
        try get(.grayscale, &grayscale); try get(.blur, &blur)
    }
}
