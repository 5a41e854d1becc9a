import DeepCluster
import Foundation

/// `train --status-file`: how the run ended, for batch scripts that decide whether to requeue
/// (Launch/slurm.sbatch, Launch/pbs.sh). Written by rank 0, atomically, after the last collective.
struct RunStatus: Encodable {
    /// The run reached --epochs (or found its checkpoint already there).
    let finished: Bool
    /// Where a stop signal ended it, nil when finished.
    let stopped: String?
    let epochs: Int
    /// The newest complete checkpoint's folder name in --checkpoint-dir after the run, nil without one.
    let newest_checkpoint: String?

    init(finished: Bool, stopped: String?, epochs: Int, checkpointDirectory: String?) {
        self.finished = finished
        self.stopped = stopped
        self.epochs = epochs
        newest_checkpoint = checkpointDirectory.flatMap { Checkpoint.complete(in: $0).last }.map { ($0 as NSString).lastPathComponent }
    }

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = try encoder.encode(self)
        data.append(0x0a)
        try AtomicFile.write(data, to: path)
    }
}
