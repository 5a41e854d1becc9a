import Collective
import Foundation

extension DeepClusterRun {
    /// Continues the newest checkpoint of `dir` that verifies on every rank: the training state,
    /// the method's saved arrays, and the pseudo-labels (the epoch's own when it stopped inside one).
    func resume(from dir: String) throws {
        // Rank 0's listing decides, so a rank that sees an empty (node-local, not yet synced) folder
        // does not start afresh while the others resume.
        var found = [Int32(communicator.isRoot && !Checkpoint.complete(in: dir).isEmpty ? 1 : 0)]
        try communicator.broadcast(&found, root: 0)
        guard found[0] == 1 else {
            if communicator.isRoot { log("no checkpoint in \(dir): starting from epoch 0") }
            return
        }
        let loaded = try Checkpoint.newestValidOnEveryRank(in: dir, communicator: communicator, stoppable: true) { [communicator] msg in
            if communicator.isRoot { self.log(msg) }
        }
        let changed = recipe.differences(from: loaded.state.recipe)
        if !changed.isEmpty && !options.resumeOverride { throw TrainingError.recipeChanged(path: loaded.path, changes: changed) }
        if !changed.isEmpty && communicator.isRoot {
            let list = changed.map { "\(fieldName($0.field)) \($0.saved) → \($0.given)" }.joined(separator: ", ")
            log("\(fieldName("resumeOverride")): continuing \(loaded.path) with \(list)")
        }
        try state.restore(from: loaded)
        try state.adoptRootState(communicator)
        labeler.resume(from: loaded)
        startEpoch = loaded.state.epoch
        let saved = PseudoLabels(saved: loaded.assignments, heads: model.head.clusters.count, count: images.count)
        if let step = loaded.state.step_in_epoch {
            guard let saved else { throw CheckpointError.incompatible(path: loaded.path, reason: "its pseudo-labels cover \(loaded.assignments.count) images, this run has \(images.count)") }
            midEpoch = (saved, step)
        } else {
            previous = saved?.first
        }
        if communicator.isRoot {
            let at = loaded.state.step_in_epoch.map { "inside epoch \(startEpoch) after \($0) steps" } ?? "\(startEpoch) epochs done"
            log("resumed from \(loaded.path) (\(at), step \(state.globalStep), saved on \(loaded.state.ranks) ranks)")
        }
    }

    /// Step 7: rank 0 writes a checkpoint (BN statistics averaged first so the file holds the shared
    /// model); every rank waits for it. No-op without --checkpoint-dir.
    func saveCheckpoint(epoch: Int, step: Int?, labels: PseudoLabels) throws {
        guard options.checkpointDirectory != nil else { return }
        try trainer.synchronizeBuffers()
        let arrays = try labeler.checkpointArrays()
        if let folder = checkpointFolder {
            try Checkpoint.write(directory: folder, epoch: epoch, stepInEpoch: step, files: state.checkpointFiles(epoch: epoch),
                                 globalStep: state.globalStep, optimizerSteps: state.optimizer.steps, ranks: communicator.size,
                                 assignments: labels.values, arrays: arrays, config: config,
                                 unreadableImages: unreadableImages)
        }
        // The others wait here while rank 0 writes and fsyncs: a known long local phase.
        try CollectiveWatchdog.patiently { try communicator.barrier() }
    }
}
