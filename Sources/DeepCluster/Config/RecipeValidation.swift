import NN

extension Recipe {
    /// Upper bounds that keep a typo from being killed for memory with no line: a global batch of
    /// 65,536 images, a million clusters, hidden and embedding widths of 65,536.
    public static let largestBatch = 1 << 16
    public static let largestClusterCount = 1 << 20
    public static let largestWidth = 1 << 16

    /// Throws `TrainingError.invalidValue` naming the first field out of its range.
    public func validate() throws {
        func bad(_ field: String, _ message: String) -> TrainingError { .invalidValue(field: field, message) }
        if let p = dropout, !(p >= 0 && p < 1) { throw bad("dropout", "must be in [0, 1), got \(p)") }
        if heads < 1 || heads > 16 { throw bad("heads", "must be between 1 and 16, got \(heads)") }
        if !isV2 && heads != 1 { throw bad("heads", "is for the deepcluster-v2 method; DeepCluster has one head") }
        if !isV2 && crops != nil { throw bad("crops", "is for the deepcluster-v2 method; DeepCluster trains on one view") }
        if !(temperature > 0 && temperature.isFinite) { throw bad("temperature", "must be positive, got \(temperature)") }
        if embeddingDimension < 1 || embeddingDimension > Self.largestWidth { throw bad("embeddingDimension", "must be between 1 and \(Self.largestWidth), got \(embeddingDimension)") }
        if let h = hiddenDimension, h < 1 || h > Self.largestWidth { throw bad("hiddenDimension", "must be between 1 and \(Self.largestWidth), got \(h)") }
        if isV2 { _ = try multiCrop() }
        if let c = clusters, c < 2 || c > Self.largestClusterCount { throw bad("clusters", "must be between 2 and \(Self.largestClusterCount), got \(c)") }
        if let d = pcaDimension, d < 1 { throw bad("pcaDimension", "must be at least 1, got \(d)") }
        if kmeansIterations < 0 { throw bad("kmeansIterations", "must be ≥ 0, got \(kmeansIterations)") }
        if epochs < 1 || epochs > 100_000 { throw bad("epochs", "must be between 1 and 100000, got \(epochs)") }
        if batchSize < 1 || batchSize > Self.largestBatch { throw bad("batchSize", "must be between 1 and \(Self.largestBatch), got \(batchSize)") }
        if !(learningRate > 0 && learningRate.isFinite) { throw bad("learningRate", "must be positive and finite, got \(learningRate)") }
        if !(warmupEpochs >= 0) || warmupEpochs > Double(epochs) { throw bad("warmupEpochs", "must be between 0 and the epochs, got \(warmupEpochs)") }
        if !(finalLearningRate >= 0) || finalLearningRate > learningRate { throw bad("finalLearningRate", "must be between 0 and the learning rate, got \(finalLearningRate)") }
        if !(brightness >= 0 && brightness < 1) { throw bad("brightness", "must be in [0, 1), got \(brightness)") }
        if !(contrast >= 0 && contrast < 1) { throw bad("contrast", "must be in [0, 1), got \(contrast)") }
        if !(saturation >= 0 && saturation < 1) { throw bad("saturation", "must be in [0, 1), got \(saturation)") }
        if !(grayscale >= 0 && grayscale <= 1) { throw bad("grayscale", "must be a probability in [0, 1], got \(grayscale)") }
        if !(blur >= 0 && blur <= 1) { throw bad("blur", "must be a probability in [0, 1], got \(blur)") }
        if !(momentum >= 0 && momentum < 1) { throw bad("momentum", "must be in [0, 1), got \(momentum)") }
        if !(weightDecay >= 0 && weightDecay <= 1) { throw bad("weightDecay", "must be in [0, 1], got \(weightDecay)") }
        if !(pcaEpsilon >= 0 && pcaEpsilon.isFinite) { throw bad("pcaEpsilon", "must be ≥ 0 and finite, got \(pcaEpsilon)") }
        if let l = limit, l < 2 { throw bad("limit", "must be at least 2, got \(l)") }
        if let r = resize, r < 0 { throw bad("resize", "must be ≥ 0, got \(r)") }
        if !(cropScale > 0 && cropScale <= 1) { throw bad("cropScale", "must be in (0, 1], got \(cropScale)") }
        if !DatasetLoader.formats.contains(format) { throw bad("format", "must be one of \(DatasetLoader.formats.joined(separator: ", ")), got '\(format)'") }
        do { _ = try architecture() } catch let ModelError.unknownArchitecture(name, known) {
            throw bad("arch", "'\(name)' is unknown; expected one of \(known.joined(separator: ", "))")
        }
    }
}
