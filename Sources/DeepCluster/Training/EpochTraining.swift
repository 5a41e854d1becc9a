import Datasets
import NN
import Tensor

extension DeepClusterRun {
    /// Step 6: one pass over `order` in global batches from batch `startStep`; returns the mean loss
    /// over the batches, when every rank agreed to stop the number of batches of this epoch done, and
    /// the seconds the steps waited for their input. `--workers` threads decode and augment the next
    /// batches of this rank's slices while the current one trains.
    func trainEpoch(order: [Int], labels: PseudoLabels, epoch: Int, startStep: Int) throws -> (loss: Double, stoppedAfter: Int?, inputWait: Double) {
        var total = 0.0, batches = 0
        let b = recipe.batchSize
        var start = startStep * b
        var step = startStep
        let totalSteps = (order.count + b - 1) / b
        var progress = Progress(total: totalSteps, enabled: communicator.isRoot && !options.quiet, forced: options.progress)
        defer { progress.clear() }
        let (rank, size, seed, views, images) = (communicator.rank, communicator.size, recipe.seed, labeler.views, images)
        @Sendable func slice(_ s: Int) -> ArraySlice<Int> { BatchSplit.slice(order, step: s, batch: b, rank: rank, size: size) }
        let loader = Prefetcher(batches: totalSteps - startStep, workers: options.workers) { i, tensor in
            let idx = slice(startStep + i)
            if !idx.isEmpty { try MultiCrop.batch(views, source: images, indices: idx, seed: seed, epoch: epoch, into: tensor) }
        }
        defer { loader.finish() }
        while start < order.count {
            let globalCount = min(b, order.count - start)
            let idx = slice(step)
            let input = try loader.next()
            StopSignal.testHook(phase: "step", count: step + 1, epoch: epoch, rank: rank)
            state.setLearningRate(epoch: epoch, step: step, stepsPerEpoch: totalSteps)
            let result = try trainer.step(input: input, labels: labeler.stepLabels(idx, labels), globalBatch: globalCount * views.count, epoch: epoch)
            total += result.loss
            labeler.didStep(step, images: idx, embedding: result.embedding)
            batches += 1
            step += 1
            start += globalCount
            progress.update(step: step, loss: total / Double(batches), images: start - startStep * b)
            if trainer.stopAgreed && start < order.count { return (total / Double(batches), step, loader.waitSeconds) }
            if options.checkpointEvery > 0, step % options.checkpointEvery == 0, start < order.count, options.checkpointDirectory != nil {
                try saveCheckpoint(epoch: epoch, step: step, labels: labels)
                rankLog.write("checkpoint inside epoch \(epoch) after step \(step)")
            }
        }
        return (total / Double(max(batches, 1)), nil, loader.waitSeconds)
    }
}
