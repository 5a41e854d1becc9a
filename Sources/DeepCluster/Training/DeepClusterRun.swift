import Clustering
import Collective
import Datasets
import Dispatch
import Foundation
import NN
import Tensor

/// The DeepCluster epoch, distributed (../shared/DESIGN.md steps 1–7):
/// extract on the shard → PCA-whitening with allreduced statistics → distributed k-means →
/// pseudo-labels by allgatherv → the uniform-over-clusters sampler (same list on every rank) →
/// a fresh top layer and one epoch of data-parallel SGD with augmentation → metrics and checkpoint.
public final class DeepClusterRun {
    public let config: TrainingConfig
    public let communicator: Communicator
    public let images: any ImageSource
    public let model: Model
    public let trainer: DataParallelTrainer
    public let transforms: Transforms
    /// DeepCluster-v2: the training transform of each view, and this rank's memory bank.
    let views: [Transforms]
    let bank: MemoryBank?
    public private(set) var records: [EpochRecord] = []
    public private(set) var startEpoch = 0
    /// The previous epoch's pseudo-labels (DeepCluster-v2: of the first head), for NMI(t, t−1).
    private var previous: [Int32]?
    /// A checkpoint written inside an epoch: that epoch's pseudo-labels and the steps already done.
    private var midEpoch: (assignments: [Int32], step: Int)?
    /// DeepCluster-v2: the checkpoint's memory_bank.npy resumed from, until this rank has read its rows.
    var loadedBankFile: String?
    /// Whether the last runEpoch returned early on a stop signal.
    public private(set) var stoppedInsideEpoch = false
    /// The phase boundary at which every rank agreed to stop, nil while running.
    public private(set) var stoppedAtBoundary: String?
    public var log: (String) -> Void = { print($0) }
    private var rankLogHandle: FileHandle?
    /// Rank 0's hold on --checkpoint-dir (locked for the job).
    private var checkpointFolder: CheckpointDirectory?

    public init(config: TrainingConfig, communicator: Communicator) throws {
        try config.validate()
        self.config = config
        self.communicator = communicator
        let arch = try config.architecture()
        var set = try DatasetLoader.load(data: config.data, labels: config.labels, format: config.format, channels: arch.inputChannels)
        if let l = config.limit { set = set.limited(to: l) }
        images = set
        transforms = try DatasetLoader.transforms(for: set, config: config)
        let k = config.k(arch)
        guard set.count >= k else {
            throw TrainingError.invalidConfiguration("\(set.count) images cannot form \(k) clusters; lower --clusters or raise --limit")
        }
        model = Model(architecture: arch, head: config.head(arch), seed: config.seed)
        guard config.isV2 || config.pcaDim(arch) <= model.featureDimension else {
            throw TrainingError.invalidConfiguration("--pca-dim \(config.pcaDim(arch)) exceeds the feature dimension \(model.featureDimension)")
        }
        trainer = try DataParallelTrainer(model: model, communicator: communicator, learningRate: config.learningRate,
                                          momentum: config.momentum, weightDecay: config.weightDecay,
                                          bucketBytes: config.bucketBytes, seed: config.seed)
        if config.isV2 {
            let crops = try config.multiCrop()
            views = crops.transforms(from: transforms)
            bank = MemoryBank(views: crops.assignViews, dimension: model.embeddingDimension)
            trainer.loss = .prototypes(heads: model.head.clusters, temperature: config.temperature)
            trainer.freezeTop = true
        } else {
            views = [transforms]
            bank = nil
        }
        if let dir = config.logDirectory {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let path = "\(dir)/rank-\(communicator.rank).log"
            if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
            rankLogHandle = FileHandle(forWritingAtPath: path)
            _ = try? rankLogHandle?.seekToEnd()
            rankLog("rank \(communicator.rank) of \(communicator.size) on \(Communicator.processorName()), \(set.count) images, shard \(Shard.range(count: set.count, rank: communicator.rank, size: communicator.size))")
        }
        if let dir = config.checkpointDirectory, communicator.isRoot {
            checkpointFolder = try CheckpointDirectory(path: dir)
            // A fresh run would mix its checkpoints with another run's (and pruning would take either).
            if !config.resume, let newest = Checkpoint.complete(in: dir).last {
                throw TrainingError.invalidConfiguration("--checkpoint-dir \(dir) already holds checkpoints (newest \((newest as NSString).lastPathComponent)); continue them with --resume, or give this run another --checkpoint-dir")
            }
        }
        if config.resume, let dir = config.checkpointDirectory {
            try resume(from: dir)
        }
    }

    /// A line in this rank's own log (--log-dir), with a timestamp.
    func rankLog(_ line: String) {
        guard let h = rankLogHandle else { return }
        h.write(Data("\(ISO8601DateFormatter().string(from: Date())) \(line)\n".utf8))
    }

    private func resume(from dir: String) throws {
        // Rank 0's listing decides, so a rank that sees an empty (node-local, not yet synced) folder
        // does not start afresh while the others resume.
        var found = [Int32(communicator.isRoot && !Checkpoint.complete(in: dir).isEmpty ? 1 : 0)]
        try communicator.broadcast(&found, root: 0)
        guard found[0] == 1 else {
            if communicator.isRoot { log("no checkpoint in \(dir): starting from epoch 0") }
            return
        }
        let loaded = try Checkpoint.newestValidOnEveryRank(in: dir, communicator: communicator) { [communicator] msg in
            if communicator.isRoot { self.log(msg) }
        }
        let changed = config.recipeDifferences(from: loaded.state.config)
        if !changed.isEmpty && !config.resumeOverride {
            throw TrainingError.invalidConfiguration("--resume from \(loaded.path) with flags that change its recipe (\(changed.joined(separator: ", "))); give the saved values, or --resume-override to continue with the new ones")
        }
        if !changed.isEmpty && communicator.isRoot { log("--resume-override: continuing \(loaded.path) with \(changed.joined(separator: ", "))") }
        try Checkpoint.restore(loaded, into: model)
        guard loaded.momentum.count == trainer.optimizer.velocity.count else {
            throw CheckpointError.incompatible(path: loaded.path, reason: "momentum has \(loaded.momentum.count) values, the model \(trainer.optimizer.velocity.count)")
        }
        trainer.optimizer.restore(velocity: loaded.momentum, steps: loaded.state.optimizer_steps)
        trainer.globalStep = loaded.state.global_step
        try trainer.adoptRootState()
        if let f = loaded.memoryBankFile, let bank, let l = try? NPY.readLayout(f), l.shape == [bank.views, images.count, bank.dimension] {
            loadedBankFile = f
        }
        startEpoch = loaded.state.epoch
        let heads = model.head.clusters.count
        let fits = loaded.assignments.count == images.count * heads
        if let step = loaded.state.step_in_epoch {
            guard fits else { throw CheckpointError.incompatible(path: loaded.path, reason: "its pseudo-labels cover \(loaded.assignments.count) images, this run has \(images.count)") }
            midEpoch = (loaded.assignments, step)
        } else {
            previous = fits ? Array(loaded.assignments.prefix(images.count)) : nil
        }
        if communicator.isRoot {
            let at = loaded.state.step_in_epoch.map { "inside epoch \(startEpoch) after \($0) steps" } ?? "\(startEpoch) epochs done"
            log("resumed from \(loaded.path) (\(at), step \(trainer.globalStep), saved on \(loaded.state.ranks) ranks)")
        }
    }


    /// Runs the remaining epochs. Returns false when a stop was requested (checkpoint written).
    @discardableResult
    public func run() throws -> Bool {
        if startEpoch >= config.epochs {
            if communicator.isRoot { log("nothing to do: the checkpoint is at epoch \(startEpoch), --epochs is \(config.epochs)") }
            return true
        }
        for epoch in startEpoch..<config.epochs {
            let resumeAt = epoch == startEpoch ? midEpoch : nil
            let r = try runEpoch(epoch, resumingAt: resumeAt)
            if let phase = stoppedAtBoundary {
                if communicator.isRoot {
                    let saved = config.checkpointDirectory == nil ? "no --checkpoint-dir, nothing saved"
                        : epoch == 0 && resumeAt == nil ? "no epoch had finished, nothing to save"
                        : "the newest checkpoint in \(config.checkpointDirectory!) is current (nothing changed since it was written)"
                    log("stop requested: stopped in epoch \(epoch) \(phase); \(saved)")
                }
                return false
            }
            if !stoppedInsideEpoch {
                records.append(r)
                rankLog(r.readableLine())
                if communicator.isRoot {
                    if !config.quiet { log(r.readableLine()) }
                    if let m = config.metrics {
                        try appendLine(r.jsonLine(), to: m)
                        let chart = (m.hasSuffix(".jsonl") ? String(m.dropLast(6)) : m) + ".svg"
                        try AtomicFile.write(Data(MetricsChart.svg(records).utf8), to: chart)
                    }
                }
            }
            if trainer.stopAgreed {
                if communicator.isRoot {
                    let saved = config.checkpointDirectory.map { "checkpoint written to \($0)" } ?? "no --checkpoint-dir, nothing saved"
                    log("stop requested: stopped \(stoppedInsideEpoch ? "inside" : "at the end of") epoch \(epoch) (global step \(trainer.globalStep)); \(saved)")
                }
                return false
            }
        }
        return true
    }

    /// One epoch. `resumingAt` continues an epoch a stop signal interrupted: its pseudo-labels come
    /// from the checkpoint and training starts at the saved step (nmi_prev is then unknown).
    public func runEpoch(_ epoch: Int, resumingAt resume: (assignments: [Int32], step: Int)? = nil) throws -> EpochRecord {
        var rec = EpochRecord()
        rec.epoch = epoch
        rec.ranks = communicator.size
        rec.threads = BLAS.threads
        rec.images = images.count
        let k = model.head.clusters[0], n = images.count
        let t0 = Timing.now()
        // 1–4: pseudo-labels — from the checkpoint when resuming inside this epoch. DeepCluster-v2:
        // one row of n per head, from spherical k-means on the memory bank.
        var times = (extract: t0, pca: t0)
        // Safe points between phases: the state is the last checkpoint's until training starts.
        if try stopAgreedHere("before extraction") { return rec }
        let assignments = try resume?.assignments
            ?? (config.isV2 ? clusterMemory(epoch: epoch, record: &rec, times: &times) : cluster(epoch: epoch, record: &rec, times: &times))
        let t3 = Timing.now()
        // The figures follow the first head.
        let head0 = config.isV2 ? Array(assignments.prefix(n)) : assignments
        var counts = [Int](repeating: 0, count: k)
        for a in head0 where a >= 0 { counts[Int(a)] += 1 }
        let sizes = counts.sorted()
        rec.empty_clusters = sizes.filter { $0 == 0 }.count
        rec.cluster_sizes = .init(min: sizes[0], median: sizes[k / 2], max: sizes[k - 1])
        if communicator.isRoot {
            if let prev = previous { rec.nmi_prev = ClusterMetrics.nmi(head0, prev) }
            if let labels = images.labels {
                rec.nmi_labels = ClusterMetrics.nmi(head0, labels)
                rec.ari_labels = ClusterMetrics.ari(head0, labels)
            }
        }
        if try stopAgreedHere("after clustering, before training") { return rec }
        previous = head0
        // A fresh top layer — not when resuming inside the epoch: the checkpoint holds it.
        if resume == nil { trainer.resetTopLayer(epoch: epoch) }
        // 5. sample uniformly over the clusters: the same list on every rank. DeepCluster-v2 needs no
        // balancing (SwAV appendix D): a plain shuffle, whose first views refill the memory bank.
        let order = config.isV2 ? Self.permutation(n, seed: config.seed, epoch: epoch)
            : UniformClusterSampler.indices(assignments: assignments, clusters: k, count: n, seed: config.seed, epoch: epoch).0
        if let bank {
            bank.prepare(order: order, batch: config.batchSize, rank: communicator.rank, size: communicator.size)
            if let s = resume?.step, s > 0 { try refillBank(order: order, epoch: epoch, steps: 0..<s) }
        }
        // 6. train one epoch.
        let (loss, stoppedAfter, inputWait) = try trainEpoch(order: order, labels: assignments, epoch: epoch, startStep: resume?.step ?? 0)
        rec.loss = loss
        stoppedInsideEpoch = stoppedAfter != nil
        if let step = stoppedAfter {
            try saveCheckpoint(epoch: epoch, step: step, assignments: assignments)
            return rec
        }
        let t4 = Timing.now()
        rec.seconds = .init(extract: times.extract - t0, pca: times.pca - times.extract, kmeans: t3 - times.pca,
                            cluster: t3 - times.extract, train: t4 - t3, total: t4 - t0, input_wait: inputWait)
        rec.images_per_s = Double(order.count) / max(t4 - t3, 1e-9)
        // Every rank must end the epoch with the same weights (one hash, two allreduces).
        let sums = try trainer.parameterChecksum()
        guard sums.min == sums.max else {
            throw TrainingError.invalidConfiguration("the ranks' weights differ at the end of epoch \(epoch); the job stops before writing a checkpoint")
        }
        rec.peak_rss_bytes = try ProcessMemory.largestPeakResidentBytes(communicator)
        // 7. checkpoint.
        try saveCheckpoint(epoch: epoch + 1, step: nil, assignments: assignments)
        return rec
    }

    /// True on every rank when any rank has been asked to stop (one allreduce): a phase boundary is a
    /// safe point. Records where the run stopped.
    private func stopAgreedHere(_ phase: String) throws -> Bool {
        let any = try communicator.allreduce(Int32(StopSignal.requested ? 1 : 0), op: .max)
        if any != 0 { stoppedAtBoundary = phase }
        return any != 0
    }

    /// Steps 1–4 of the epoch: extract on the shard, PCA-whiten with reduced statistics, distributed
    /// k-means, allgatherv. Records the k-means figures and when extraction and PCA ended.
    private func cluster(epoch: Int, record rec: inout EpochRecord, times: inout (extract: Double, pca: Double)) throws -> [Int32] {
        let n = images.count
        try trainer.synchronizeBuffers()
        let shard = Shard.range(count: n, rank: communicator.rank, size: communicator.size)
        let features = try FeatureExtractor.extract(model, images: images, range: shard, batchSize: config.batchSize, workers: config.workers,
                                                transforms: transforms, afterReLU: config.clusterFeature == "post-relu")
        times.extract = Timing.now()
        let d = model.featureDimension, p = config.pcaDim(model.architecture)
        var reduced = [Float](repeating: 0, count: shard.count * p)
        let pca = try PCAWhitening(fitting: features, rows: shard.count, columns: d, dimension: p, epsilon: config.pcaEpsilon,
                                   communicator: communicator)
        pca.apply(features, rows: shard.count, into: &reduced)
        times.pca = Timing.now()
        let km = try KMeans(k: model.numClasses, iterations: config.kmeansIterations, seed: config.seed)
            .run(reduced, rows: shard.count, dimension: p, offset: shard.lowerBound, total: n, epoch: epoch, communicator: communicator)
        rec.kmeans_objective = km.objectives
        rec.reseeded_clusters = km.repaired
        return try communicator.allgatherv(km.assignments)
    }

    /// Rank 0 writes a checkpoint (BN statistics averaged first so the file holds the shared model);
    /// every rank waits for it. No-op without --checkpoint-dir.
    private func saveCheckpoint(epoch: Int, step: Int?, assignments: [Int32]) throws {
        guard config.checkpointDirectory != nil else { return }
        try trainer.synchronizeBuffers()
        let n = images.count
        let memory = try bank.map { (values: try $0.gathered(count: n, communicator: communicator), shape: [$0.views, n, $0.dimension]) }
        if let folder = checkpointFolder {
            try Checkpoint.write(directory: folder, epoch: epoch, stepInEpoch: step, trainer: trainer, assignments: assignments,
                                 memoryBank: memory, config: config)
        }
        // The others wait here while rank 0 writes and fsyncs: a known long local phase.
        try CollectiveWatchdog.patiently { try communicator.barrier() }
    }

    /// One pass over `order` in global batches from batch `startStep`; returns the mean loss over the
    /// batches, when every rank agreed to stop the number of batches of this epoch done, and the seconds
    /// the steps waited for their input. `--workers` threads decode and augment the next batches of this
    /// rank's slices while the current one trains.
    func trainEpoch(order: [Int], labels: [Int32], epoch: Int, startStep: Int) throws -> (loss: Double, stoppedAfter: Int?, inputWait: Double) {
        var total = 0.0, batches = 0
        let b = config.batchSize
        var start = startStep * b
        var step = startStep
        let totalSteps = (order.count + b - 1) / b
        var progress = Progress(total: totalSteps, enabled: communicator.isRoot && !config.quiet, forced: config.progress)
        defer { progress.clear() }
        let (rank, size, seed, views, images) = (communicator.rank, communicator.size, config.seed, views, images)
        let schedule = config.schedule
        @Sendable func slice(_ s: Int) -> ArraySlice<Int> { BatchSplit.slice(order, step: s, batch: b, rank: rank, size: size) }
        let loader = Prefetcher(batches: totalSteps - startStep, workers: config.workers) { i, tensor in
            let idx = slice(startStep + i)
            if !idx.isEmpty { try MultiCrop.batch(views, source: images, indices: idx, seed: seed, epoch: epoch, into: tensor) }
        }
        defer { loader.finish() }
        let heads = model.head.clusters.count, n = images.count
        while start < order.count {
            let globalCount = min(b, order.count - start)
            let idx = slice(step)
            let input = try loader.next()
            // DeepCluster-v2: every view of an image predicts the image's label in every head.
            let y = config.isV2 ? Self.viewLabels(idx, views: views.count, heads: heads, assignments: labels, count: n)
                : idx.map { labels[$0] }
            let rate = schedule.rate(epoch: epoch, step: step, stepsPerEpoch: totalSteps)
            trainer.optimizer.learningRate = rate
            trainer.topOptimizer.learningRate = rate
            total += try trainer.step(input: input, labels: y, globalBatch: globalCount * views.count, epoch: epoch)
            if let bank, !idx.isEmpty, let z = model.embedding { bank.store(step: step, embeddings: z, rows: idx.count) }
            batches += 1
            step += 1
            start += globalCount
            progress.update(step: step, loss: total / Double(batches), images: start - startStep * b)
            if trainer.stopAgreed && start < order.count { return (total / Double(batches), step, loader.waitSeconds) }
            if config.checkpointEvery > 0, step % config.checkpointEvery == 0, start < order.count, config.checkpointDirectory != nil {
                try saveCheckpoint(epoch: epoch, step: step, assignments: labels)
                rankLog("checkpoint inside epoch \(epoch) after step \(step)")
            }
        }
        return (total / Double(max(batches, 1)), nil, loader.waitSeconds)
    }

    func appendLine(_ line: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        if !FileManager.default.fileExists(atPath: path) {
            let dir = url.deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CheckpointError.io(path: path, reason: "cannot create metrics file")
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw CheckpointError.io(path: path, reason: "cannot open metrics file") }
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: Data((line + "\n").utf8))
    }
}
