/// How a run is carried out and where its files go — nothing here changes what it computes, so a
/// resume may change any of them: input threads, allreduce buckets (an elementwise sum whatever
/// their size), checkpoints, logs, metrics and the terminal.
public struct RunOptions: Codable, Sendable {
    /// Threads that decode and augment the next batches while the current one trains (0: in the step).
    public var workers = 1
    /// How far the images are checked before training (`DataScan`): headers, decode, none.
    public var dataCheck = DataScan.Depth.headers
    public var bucketBytes = 1 << 20
    public var checkpointDirectory: String? = nil
    public var keepCheckpoints = 3
    /// Also checkpoint every this many training steps (0: at epoch ends only).
    public var checkpointEvery = 0
    /// Per-rank log files (rank-N.log) in this directory.
    public var logDirectory: String? = nil
    public var resume = false
    /// Resume even when the recipe differs from the saved one (`RecipeDifferences.swift`).
    public var resumeOverride = false
    public var metrics: String? = nil
    /// Every this many epochs, a weighted k-NN classifier's top-1 on the features (0: never; `KNNMonitor`).
    public var knnEvery = 0
    /// TensorBoard event files go to this directory (rank 0).
    public var tensorboard: String? = nil
    public var quiet = false
    /// Draw the progress line even under mpirun (whose pty makes every rank look like a terminal).
    public var progress = false

    public init() {}

    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func get<T: Decodable>(_ k: CodingKeys, _ v: inout T) throws { if let x = try c.decodeIfPresent(T.self, forKey: k) { v = x } }
        try get(.workers, &workers); try get(.bucketBytes, &bucketBytes); try get(.dataCheck, &dataCheck)
        checkpointDirectory = try c.decodeIfPresent(String.self, forKey: .checkpointDirectory)
        try get(.keepCheckpoints, &keepCheckpoints); try get(.checkpointEvery, &checkpointEvery)
        logDirectory = try c.decodeIfPresent(String.self, forKey: .logDirectory)
        try get(.resume, &resume); try get(.resumeOverride, &resumeOverride)
        try get(.knnEvery, &knnEvery); tensorboard = try c.decodeIfPresent(String.self, forKey: .tensorboard)
        metrics = try c.decodeIfPresent(String.self, forKey: .metrics); try get(.quiet, &quiet); try get(.progress, &progress)
    }

    public func validate() throws {
        func bad(_ field: String, _ message: String) -> TrainingError { .invalidValue(field: field, message) }
        if workers < 0 || workers > 64 { throw bad("workers", "must be between 0 and 64, got \(workers)") }
        if checkpointEvery < 0 { throw bad("checkpointEvery", "must be ≥ 0, got \(checkpointEvery)") }
        if keepCheckpoints < 1 { throw bad("keepCheckpoints", "must be at least 1, got \(keepCheckpoints)") }
        if knnEvery < 0 { throw bad("knnEvery", "must be ≥ 0, got \(knnEvery)") }
        if bucketBytes < 4 { throw bad("bucketBytes", "must be at least 4, got \(bucketBytes)") }
    }
}
