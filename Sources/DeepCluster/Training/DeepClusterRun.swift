import Clustering
import Collective
import Datasets
import Foundation
import NN
import Tensor

/// The DeepCluster epoch, distributed (README, "What one epoch does"; ../shared/DESIGN.md steps 1–7).
/// The method's part — features, clustering, labels, order, loss — is a `PseudoLabeler`; the run
/// owns the loop, the training state, the stops and the checkpoints.
public final class DeepClusterRun {
    public let config: TrainingConfig
    public var recipe: Recipe { config.recipe }
    public var options: RunOptions { config.options }
    public let communicator: Communicator
    public let images: any ImageSource
    /// Images the pre-scan found unreadable and --skip-unreadable left out.
    public let unreadableImages: Int
    public let state: TrainingState
    public let trainer: DataParallelTrainer
    public let labeler: any PseudoLabeler
    public var model: Model { state.model }
    public private(set) var records: [EpochRecord] = []
    public internal(set) var startEpoch = 0
    /// The previous epoch's pseudo-labels (of the first head), for NMI(t, t−1).
    var previous: [Int32]?
    /// A checkpoint written inside an epoch: that epoch's pseudo-labels and the steps already done.
    var midEpoch: (labels: PseudoLabels, step: Int)?
    /// Whether every rank agreed to stop after the epoch's checkpoint (a stop during the k-NN monitor).
    var stopAfterEpoch = false
    /// Whether the last runEpoch returned early on a stop signal.
    public private(set) var stoppedInsideEpoch = false
    /// Where every rank agreed to stop — a phase boundary ("before extraction") or a safe point inside
    /// a phase ("during k-means (iteration 3 of 21)") — nil while running.
    public private(set) var stoppedAtBoundary: String?
    public var log: (String) -> Void = { print($0) }
    /// How log lines name a field of the configuration (the command line sets its flags' names).
    public let fieldName: (String) -> String
    let rankLog: RankLog
    /// Rank 0's hold on --checkpoint-dir (locked for the job).
    var checkpointFolder: CheckpointDirectory?
    /// --knn-every's classifier, and the transforms its features are extracted with.
    let knn: (monitor: KNNMonitor, transforms: Transforms)?
    /// Rank 0's TensorBoard event file (--tensorboard), opened at the first record.
    var tensorboard: TensorBoardEvents?

    /// `listed`: the images as the command already listed them (see `RunSetup`).
    public init(config: TrainingConfig, communicator: Communicator, fieldName: @escaping (String) -> String = { $0 },
                listed: (any ImageSource)? = nil) throws {
        try config.validate()
        self.config = config
        self.fieldName = fieldName
        self.communicator = communicator
        let recipe = config.recipe, options = config.options
        let setup = try RunSetup(recipe: recipe, dataCheck: options.dataCheck, communicator: communicator, listed: listed) { line in
            print(line); fflush(stdout)
        }
        images = setup.images
        unreadableImages = setup.skipped
        knn = options.knnEvery > 0
            ? (try KNNMonitor(images: setup.images, recipe: recipe, channels: setup.model.architecture.inputChannels, seed: recipe.seed), setup.transforms)
            : nil
        state = TrainingState(model: setup.model, momentum: recipe.momentum, weightDecay: recipe.weightDecay,
                              topLayer: recipe.isV2 ? .frozen : .resetEveryEpoch, seed: recipe.seed) { [schedule = recipe.schedule] in
            schedule.rate(epoch: $0, step: $1, stepsPerEpoch: $2)
        }
        trainer = try DataParallelTrainer(state: state, communicator: communicator, bucketBytes: options.bucketBytes)
        rankLog = try RankLog(directory: options.logDirectory, rank: communicator.rank)
        if recipe.isV2 {
            let prototypes = try PrototypeLabeler(trainer: trainer, images: images, transforms: setup.transforms, recipe: recipe, workers: options.workers)
            prototypes.rankLog = { [rankLog] in rankLog.write($0) }
            labeler = prototypes
        } else {
            labeler = KMeansLabeler(trainer: trainer, images: images, transforms: setup.transforms, recipe: recipe, workers: options.workers)
        }
        // The step minimises the method's loss.
        trainer.loss = labeler.loss
        let shard = Shard.range(count: images.count, rank: communicator.rank, size: communicator.size)
        rankLog.write("rank \(communicator.rank) of \(communicator.size) on \(Communicator.processorName()), \(images.count) images, shard \(shard)")
        if let dir = options.checkpointDirectory, communicator.isRoot {
            checkpointFolder = try CheckpointDirectory(path: dir)
            if let note = checkpointFolder?.lockNote { print("note: \(note)"); fflush(stdout) }
            // A fresh run would mix its checkpoints with another run's (and pruning would take either).
            if !options.resume, let newest = Checkpoint.complete(in: dir).last {
                throw TrainingError.invalidConfiguration("--checkpoint-dir \(dir) already holds checkpoints (newest \((newest as NSString).lastPathComponent)); continue them with --resume, or give this run another --checkpoint-dir")
            }
        }
        if options.resume, let dir = options.checkpointDirectory {
            try resume(from: dir)
        }
    }

    /// Runs the remaining epochs. Returns false when a stop was requested (checkpoint written).
    @discardableResult
    public func run() throws -> Bool {
        if startEpoch >= recipe.epochs {
            if communicator.isRoot { log("nothing to do: the checkpoint is at epoch \(startEpoch), --epochs is \(recipe.epochs)") }
            return true
        }
        for epoch in startEpoch..<recipe.epochs {
            let resumeAt = epoch == startEpoch ? midEpoch : nil
            let r: EpochRecord
            do { r = try runEpoch(epoch, resumingAt: resumeAt) } catch let stop as StopRequested {
                // Every rank threw at the same safe point inside a phase: nothing of this epoch is kept.
                stoppedAtBoundary = stop.point
                r = EpochRecord(epoch: epoch, ranks: communicator.size, threads: BLAS.threads, images: images.count)
            }
            if let phase = stoppedAtBoundary {
                if communicator.isRoot {
                    let saved = options.checkpointDirectory == nil ? "no --checkpoint-dir, nothing saved"
                        : epoch == 0 && resumeAt == nil ? "no epoch had finished, nothing to save"
                        : "the newest checkpoint in \(options.checkpointDirectory!) is current (nothing changed since it was written)"
                    log("stop requested: stopped in epoch \(epoch) \(phase); \(saved)")
                }
                return false
            }
            if !stoppedInsideEpoch { try report(r) }
            if trainer.stopAgreed || stopAfterEpoch {
                if communicator.isRoot {
                    let saved = options.checkpointDirectory.map { "checkpoint written to \($0)" } ?? "no --checkpoint-dir, nothing saved"
                    log("stop requested: stopped \(stoppedInsideEpoch ? "inside" : "at the end of") epoch \(epoch) (global step \(state.globalStep)); \(saved)")
                }
                return false
            }
        }
        return true
    }

    /// One epoch, the seven steps. `resumingAt` continues an epoch a stop signal interrupted: its
    /// pseudo-labels come from the checkpoint and training starts at the saved step (nmi_prev is then unknown).
    public func runEpoch(_ epoch: Int, resumingAt resume: (labels: PseudoLabels, step: Int)? = nil) throws -> EpochRecord {
        var rec = EpochRecord(epoch: epoch, ranks: communicator.size, threads: BLAS.threads, images: images.count)
        rec.unreadable_images = unreadableImages
        let rate = recipe.schedule.rate(epoch: epoch, step: 0, stepsPerEpoch: 1)
        rec.learning_rate = Double("\(rate)") ?? Double(rate)
        let t0 = Timing.now()
        // Safe points between phases: the state is the last checkpoint's until training starts.
        if try stopAgreedHere("before extraction") { return rec }
        // 1–4. features, clustering, pseudo-labels on every rank (or the checkpoint's, resuming inside the epoch).
        let labels = try resume?.labels ?? labeler.labels(epoch: epoch, record: &rec)
        let t3 = Timing.now()
        describe(labels, in: &rec)
        if try stopAgreedHere("after clustering, before training") { return rec }
        previous = labels.first
        // A fresh top layer — not when resuming inside the epoch: the checkpoint holds it.
        if resume == nil { state.beginEpoch(epoch, start: labeler.topLayerStart) }
        // 5. the epoch's order, the same on every rank.
        let order = labeler.order(labels, epoch: epoch)
        try labeler.willTrain(order: order, epoch: epoch, from: resume?.step ?? 0)
        // 6. train one epoch.
        let (loss, stoppedAfter, inputWait) = try trainEpoch(order: order, labels: labels, epoch: epoch, startStep: resume?.step ?? 0)
        rec.loss = loss
        stoppedInsideEpoch = stoppedAfter != nil
        if let step = stoppedAfter {
            try saveCheckpoint(epoch: epoch, step: step, labels: labels)
            return rec
        }
        let t4 = Timing.now()
        let (extract, pca) = (rec.seconds.extract, rec.seconds.pca)
        rec.seconds = .init(extract: extract, pca: pca, kmeans: t3 - t0 - extract - pca, cluster: t3 - t0 - extract,
                            train: t4 - t3, total: t4 - t0, input_wait: inputWait)
        rec.images_per_s = Double(order.count) / max(t4 - t3, 1e-9)
        // Every rank must end the epoch with the same weights (one fingerprint, two allreduces).
        let sums = try trainer.parameterChecksum()
        guard sums.min == sums.max else {
            throw TrainingError.invalidConfiguration("the ranks' weights differ at the end of epoch \(epoch); the job stops before writing a checkpoint")
        }
        rec.peak_rss_bytes = try ProcessMemory.largestPeakResidentBytes(communicator)
        // 7. checkpoint.
        try saveCheckpoint(epoch: epoch + 1, step: nil, labels: labels)
        // The k-NN monitor, every --knn-every epochs and after the last, with the ranks' BatchNorm statistics averaged.
        if let (monitor, transforms) = knn, (epoch + 1) % options.knnEvery == 0 || epoch + 1 == recipe.epochs {
            let t5 = Timing.now()
            try trainer.synchronizeBuffers()
            do {
                rec.knn_top1 = try monitor.top1(model: model, transforms: transforms, representation: recipe.isV2 ? .conv : .trunk,
                                                batchSize: recipe.batchSize, workers: options.workers, communicator: communicator, epoch: epoch)
            } catch is StopRequested {
                // The epoch's checkpoint is written: the record goes out without the monitor, then the run stops.
                stopAfterEpoch = true
            }
            rec.seconds.knn = Timing.now() - t5
        }
        return rec
    }

    /// The first head's cluster sizes, and on rank 0 its NMI to the previous epoch and to the labels.
    private func describe(_ labels: PseudoLabels, in rec: inout EpochRecord) {
        let k = model.head.clusters[0], head0 = labels.first
        var counts = [Int](repeating: 0, count: k)
        for a in head0 where a >= 0 { counts[Int(a)] += 1 }
        let sizes = counts.sorted()
        rec.empty_clusters = sizes.filter { $0 == 0 }.count
        rec.cluster_sizes = .init(min: sizes[0], median: sizes[k / 2], max: sizes[k - 1])
        guard communicator.isRoot else { return }
        if let prev = previous { rec.nmi_prev = ClusterMetrics.nmi(head0, prev) }
        if let truth = images.labels {
            rec.nmi_labels = ClusterMetrics.nmi(head0, truth)
            rec.ari_labels = ClusterMetrics.ari(head0, truth)
        }
    }

    /// An epoch's record in this rank's log, and on rank 0 on the terminal and in --metrics.
    private func report(_ r: EpochRecord) throws {
        records.append(r)
        rankLog.write(r.readableLine())
        if let failure = rankLog.failure { throw failure }
        guard communicator.isRoot else { return }
        if !options.quiet { log(r.readableLine()) }
        if let m = options.metrics { try MetricsFile.append(r, all: records, to: m) }
        if let dir = options.tensorboard {
            if tensorboard == nil { tensorboard = try TensorBoardEvents(directory: dir) }
            try tensorboard!.add(r.scalars, step: r.epoch)
        }
    }

    /// True on every rank when any rank has been asked to stop (one allreduce): a phase boundary is a
    /// safe point. Records where the run stopped.
    private func stopAgreedHere(_ phase: String) throws -> Bool {
        let any = try communicator.allreduce(Int32(StopSignal.requested ? 1 : 0), op: .max)
        if any != 0 { stoppedAtBoundary = phase }
        return any != 0
    }
}
