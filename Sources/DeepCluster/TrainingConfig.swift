import Datasets
import NN

/// Everything that defines a DeepCluster run; written beside the checkpoints as config.json.
public struct TrainingConfig: Codable, Sendable {
    public var data: String? = nil
    public var labels: String? = nil
    public var format = "auto"
    public var arch = "fmnist-alexnet"
    public var clusters: Int? = nil
    public var pcaDimension: Int? = nil
    public var kmeansIterations = 20
    public var epochs = 5
    public var batchSize = 256
    public var learningRate: Float = 0.05
    public var momentum: Float = 0.9
    public var weightDecay: Float = 1e-5
    public var seed: UInt64 = 31
    public var limit: Int? = nil
    public var bucketBytes = 1 << 20
    public var checkpointDirectory: String? = nil
    public var keepCheckpoints = 3
    public var resume = false
    public var metrics: String? = nil
    public var quiet = false

    public init() {}

    public func architecture() throws -> Architecture { try Architecture.named(arch) }
    public func k(_ a: Architecture) -> Int { clusters ?? a.defaultClusters }
    public func pcaDim(_ a: Architecture) -> Int { pcaDimension ?? a.defaultPCADimension }

    public func validate() throws {
        func bad(_ s: String) -> TrainingError { .invalidConfiguration(s) }
        if let c = clusters, c < 2 { throw bad("--clusters must be at least 2, got \(c)") }
        if let d = pcaDimension, d < 1 { throw bad("--pca-dim must be at least 1, got \(d)") }
        if kmeansIterations < 0 { throw bad("--kmeans-iters must be ≥ 0, got \(kmeansIterations)") }
        if epochs < 1 { throw bad("--epochs must be at least 1, got \(epochs)") }
        if batchSize < 1 { throw bad("--batch-size must be at least 1, got \(batchSize)") }
        if !(learningRate > 0) { throw bad("--lr must be positive, got \(learningRate)") }
        if momentum < 0 || momentum >= 1 { throw bad("--momentum must be in [0, 1), got \(momentum)") }
        if weightDecay < 0 { throw bad("--weight-decay must be ≥ 0, got \(weightDecay)") }
        if let l = limit, l < 2 { throw bad("--limit must be at least 2, got \(l)") }
        if bucketBytes < 4 { throw bad("--bucket-bytes must be at least 4, got \(bucketBytes)") }
        _ = try architecture()
    }
}
