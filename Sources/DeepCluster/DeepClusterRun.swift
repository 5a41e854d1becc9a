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
    public let images: ImageSet
    public let model: Model
    public let trainer: DataParallelTrainer
    public let transforms: Transforms
    public private(set) var records: [EpochRecord] = []
    public private(set) var startEpoch = 0
    private var previous: [Int32]?
    /// Set by a signal handler: finish the current step, checkpoint, exit 0.
    nonisolated(unsafe) public static var stopRequested: Int32 = 0
    public var log: (String) -> Void = { print($0) }

    public init(config: TrainingConfig, communicator: Communicator) throws {
        try config.validate()
        self.config = config
        self.communicator = communicator
        var set = try DatasetLoader.load(data: config.data, labels: config.labels, format: config.format)
        if let l = config.limit { set = set.prefix(l) }
        images = set
        let arch = try config.architecture()
        guard set.channels == arch.inputChannels, set.height == arch.inputSize, set.width == arch.inputSize else {
            throw TrainingError.invalidConfiguration(
                "--arch \(arch.name) takes \(arch.inputChannels)×\(arch.inputSize)×\(arch.inputSize) images; the data has \(set.channels)×\(set.height)×\(set.width)")
        }
        let k = config.k(arch)
        guard set.count >= k else {
            throw TrainingError.invalidConfiguration("\(set.count) images cannot form \(k) clusters; lower --clusters or raise --limit")
        }
        model = Model(architecture: arch, numClasses: k, seed: config.seed)
        guard config.pcaDim(arch) <= model.featureDimension else {
            throw TrainingError.invalidConfiguration("--pca-dim \(config.pcaDim(arch)) exceeds the feature dimension \(model.featureDimension)")
        }
        transforms = set.channels == 1 && config.data == nil ? .fashionMNIST
            : Transforms(mean: [Float](repeating: 0.5, count: set.channels), std: [Float](repeating: 0.25, count: set.channels))
        trainer = try DataParallelTrainer(model: model, communicator: communicator, learningRate: config.learningRate,
                                          momentum: config.momentum, weightDecay: config.weightDecay,
                                          bucketBytes: config.bucketBytes, seed: config.seed)
        if config.resume, let dir = config.checkpointDirectory {
            try resume(from: dir)
        }
    }

    private func resume(from dir: String) throws {
        guard !Checkpoint.complete(in: dir).isEmpty else {
            if communicator.isRoot { log("no checkpoint in \(dir): starting from epoch 0") }
            return
        }
        let loaded = try Checkpoint.newestValid(in: dir) { [communicator] msg in if communicator.isRoot { self.log(msg) } }
        try Checkpoint.restore(loaded, into: model)
        guard loaded.momentum.count == trainer.optimizer.velocity.count else {
            throw CheckpointError.incompatible(path: loaded.path, reason: "momentum has \(loaded.momentum.count) values, the model \(trainer.optimizer.velocity.count)")
        }
        trainer.optimizer.restore(velocity: loaded.momentum, steps: loaded.state.optimizer_steps)
        trainer.globalStep = loaded.state.global_step
        startEpoch = loaded.state.epoch
        previous = loaded.assignments.count == images.count ? loaded.assignments : nil
        if communicator.isRoot { log("resumed from \(loaded.path) (epoch \(startEpoch) done, step \(trainer.globalStep), saved on \(loaded.state.ranks) ranks)") }
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Runs the remaining epochs. Returns false when a stop was requested (checkpoint written).
    @discardableResult
    public func run() throws -> Bool {
        for epoch in startEpoch..<config.epochs {
            let r = try runEpoch(epoch)
            records.append(r)
            if communicator.isRoot {
                if !config.quiet { log(r.readableLine()) }
                if let m = config.metrics { try appendLine(r.jsonLine(), to: m) }
            }
            if try stopAgreed() {
                if communicator.isRoot { log("stop requested: checkpoint of epoch \(epoch + 1) written, exiting") }
                return false
            }
        }
        return true
    }

    /// Every rank learns whether any rank received SIGTERM/SIGINT.
    func stopAgreed() throws -> Bool {
        try communicator.allreduce(Int32(DeepClusterRun.stopRequested), op: .max) != 0
    }

    public func runEpoch(_ epoch: Int) throws -> EpochRecord {
        var rec = EpochRecord()
        rec.epoch = epoch
        rec.ranks = communicator.size
        rec.threads = BLAS.threads
        rec.images = images.count
        let arch = model.architecture
        let k = model.numClasses, n = images.count
        let t0 = Self.now()
        // 1. extract: eval mode over this rank's shard.
        try trainer.synchronizeBuffers()
        let shard = ImageSet.shard(count: n, rank: communicator.rank, size: communicator.size)
        let features = FeatureExtractor.extract(model, images: images, range: shard, batchSize: config.batchSize, transforms: transforms)
        let t1 = Self.now()
        // 2. PCA-whitening + L2 with reduced statistics.
        let d = model.featureDimension, p = config.pcaDim(arch)
        var reduced = [Float](repeating: 0, count: shard.count * p)
        let pca = try features.withUnsafeBufferPointer {
            try PCAWhitening(fitting: $0.baseAddress!, rows: shard.count, columns: d, dimension: p, communicator: communicator)
        }
        features.withUnsafeBufferPointer { f in reduced.withUnsafeMutableBufferPointer { pca.apply(f.baseAddress!, rows: shard.count, into: $0.baseAddress!) } }
        let t2 = Self.now()
        // 3. distributed k-means.
        let km = try reduced.withUnsafeBufferPointer {
            try KMeans(k: k, iterations: config.kmeansIterations, seed: config.seed)
                .run($0.baseAddress!, rows: shard.count, dimension: p, offset: shard.lowerBound, total: n, epoch: epoch, communicator: communicator)
        }
        // 4. pseudo-labels on every rank.
        let assignments = try communicator.allgatherv(km.assignments)
        let t3 = Self.now()
        rec.kmeans_objective = km.objectives
        rec.reseeded_clusters = km.repaired
        let sizes = km.sizes.sorted()
        rec.empty_clusters = sizes.filter { $0 == 0 }.count
        rec.cluster_sizes = .init(min: sizes.first ?? 0, median: sizes[sizes.count / 2], max: sizes.last ?? 0)
        if communicator.isRoot {
            if let prev = previous { rec.nmi_prev = ClusterMetrics.nmi(assignments, prev) }
            if let labels = images.labels {
                rec.nmi_labels = ClusterMetrics.nmi(assignments, labels)
                rec.ari_labels = ClusterMetrics.ari(assignments, labels)
            }
        }
        previous = assignments
        // 5. sample uniformly over the clusters: the same list on every rank.
        let (order, _) = UniformClusterSampler.indices(assignments: assignments, clusters: k, count: n, seed: config.seed, epoch: epoch)
        // 6. train one epoch with a fresh top layer.
        trainer.resetTopLayer(epoch: epoch)
        rec.loss = try trainEpoch(order: order, labels: assignments, epoch: epoch)
        let t4 = Self.now()
        rec.seconds = .init(extract: t1 - t0, pca: t2 - t1, kmeans: t3 - t2, cluster: t3 - t1, train: t4 - t3, total: t4 - t0)
        rec.images_per_s = Double(order.count) / max(t4 - t3, 1e-9)
        // 7. checkpoint (rank 0 writes; BN statistics averaged first so the file holds the shared model).
        if let dir = config.checkpointDirectory {
            try trainer.synchronizeBuffers()
            if communicator.isRoot {
                try Checkpoint.write(directory: dir, epoch: epoch + 1, trainer: trainer, assignments: assignments, config: config)
            }
            try communicator.barrier()
        }
        return rec
    }

    /// One pass over `order` in global batches; returns the mean loss over the batches.
    func trainEpoch(order: [Int], labels: [Int32], epoch: Int) throws -> Double {
        let input = Tensor(shape: [0])
        var total = 0.0, batches = 0
        var start = 0
        let b = config.batchSize
        while start < order.count {
            let globalCount = min(b, order.count - start)
            let mine = BatchSplit.range(total: globalCount, rank: communicator.rank, size: communicator.size)
            let idx = order[(start + mine.lowerBound)..<(start + mine.upperBound)]
            if !idx.isEmpty {
                transforms.batch(images, indices: idx, augment: true, seed: config.seed, epoch: epoch, into: input)
            }
            let y = idx.map { labels[$0] }
            total += try trainer.step(input: input, labels: y, globalBatch: globalCount, epoch: epoch)
            batches += 1
            start += globalCount
        }
        return total / Double(max(batches, 1))
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
