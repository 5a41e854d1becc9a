import ArgumentParser
import DeepCluster

/// The options of `train` that set how a run is carried out and where its files go (`RunOptions`:
/// nothing here changes what it computes), applied by name in `apply`.
struct RunOptionFlags: ParsableArguments {
    static let o = RunOptions()

    @Option(help: "Threads per rank that decode and augment the next batches while the current one trains; 0 does it inside the step (default: \(o.workers)).") var workers: Int?
    @Option(name: .customLong("data-check"), help: "Before training, check every image: headers (its header and end marker, a few KB per file), decode (decode it whole) or none; unreadable images are all named at once (default: \(o.dataCheck.rawValue)).") var dataCheck: String?
    @Option(name: .customLong("bucket-bytes"), help: "Gradient allreduce bucket size in bytes (default: \(o.bucketBytes)).") var bucketBytes: Int?
    @Option(name: .customLong("checkpoint-dir"), help: "Write a checkpoint here after every epoch.") var checkpointDir: String?
    @Option(name: .customLong("keep-checkpoints"), help: "Complete checkpoints to keep (default: \(o.keepCheckpoints)).") var keepCheckpoints: Int?
    @Option(name: .customLong("checkpoint-every"), help: "Also checkpoint every N training steps (default: 0, at epoch ends only).") var checkpointEvery: Int?
    @Option(name: .customLong("log-dir"), help: "Write each rank's log to DIR/rank-N.log.") var logDir: String?
    @Option(help: "Append one JSON object per epoch to this file (rank 0); the curves go to the same name with .svg.") var metrics: String?
    @Option(name: .customLong("knn-every"), help: "Every N epochs (and after the last), the top-1 of a weighted k-NN classifier (k = 200, T = 0.07, cosine) on the features, the training images as the bank and the test split (or a seeded 10% held out) as queries: knn_top1 in the metrics; labels are used for this report only (default: 0, never).") var knnEvery: Int?
    @Option(help: "Write TensorBoard event files (loss, NMI, k-NN top-1, learning rate, seconds per phase, images/s per epoch) to this directory (rank 0).") var tensorboard: String?

    /// Sets the fields of the options given; the others keep `o`'s values.
    func apply(to o: inout RunOptions) throws {
        var applied = 0
        if let v = workers { o.workers = v; applied += 1 }
        if let v = dataCheck { o.dataCheck = try choice(v, field: "dataCheck", of: DataScan.Depth.self); applied += 1 }
        if let v = bucketBytes { o.bucketBytes = v; applied += 1 }
        if let v = checkpointDir { o.checkpointDirectory = v; applied += 1 }
        if let v = keepCheckpoints { o.keepCheckpoints = v; applied += 1 }
        if let v = checkpointEvery { o.checkpointEvery = v; applied += 1 }
        if let v = logDir { o.logDirectory = v; applied += 1 }
        if let v = metrics { o.metrics = v; applied += 1 }
        if let v = knnEvery { o.knnEvery = v; applied += 1 }
        if let v = tensorboard { o.tensorboard = v; applied += 1 }
        try GivenOptions.check(self, applied: applied)
    }
}
