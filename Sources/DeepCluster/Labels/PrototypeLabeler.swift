import Clustering
import Collective
import Datasets
import NN
import Tensor

/// DeepCluster-v2's pseudo-labels (`swav/main_deepclusterv2.py`, ../shared/reference/deepcluster.md
/// §2): spherical k-means of every head on the ranks' concatenated memory banks (head h on view
/// h mod 2, as `crops_for_assign 0 1`), its centroids copied into the head's prototypes, the labels
/// gathered back to dataset order; a plain shuffle as the order (no balancing, SwAV appendix D); the
/// tempered prototype loss on every view; the bank refilled by the training steps themselves.
public final class PrototypeLabeler: PseudoLabeler {
    public let loss: any LossFunction
    public let views: [Transforms]
    let bank: MemoryBank
    let trainer: DataParallelTrainer
    let images: any ImageSource
    let recipe: Recipe
    let workers: Int
    /// The checkpoint's memory_bank.npy resumed from, until this rank has read its rows.
    private var savedBank: String?
    /// Logs a line in this rank's log.
    var rankLog: (String) -> Void = { _ in }

    init(trainer: DataParallelTrainer, images: any ImageSource, transforms: Transforms, recipe: Recipe, workers: Int) throws {
        self.trainer = trainer
        self.images = images
        self.recipe = recipe
        self.workers = workers
        let crops = try recipe.multiCrop()
        views = crops.transforms(from: transforms)
        bank = MemoryBank(views: crops.assignViews, dimension: trainer.model.embeddingDimension)
        loss = PrototypeLoss(heads: trainer.model.head.clusters, temperature: recipe.temperature)
    }

    var communicator: Communicator { trainer.communicator }

    /// The bank comes from the previous epoch's training pass, or after a resume from the checkpoint.
    /// At the start (and after a resume from a checkpoint without one), one forward pass over the
    /// pass the bank would hold fills it first — SwAV's `init_memory`; its seconds are `extract`.
    public func labels(epoch: Int, record rec: inout EpochRecord) throws -> PseudoLabels {
        let model = trainer.model
        let n = images.count, heads = model.head.clusters, d = model.embeddingDimension
        let t0 = Timing.now()
        if !bank.isComplete {
            let from = max(epoch - 1, 0)
            let order = EpochOrder.permutation(n, seed: recipe.seed, epoch: from)
            bank.prepare(order: order, batch: recipe.batchSize, rank: communicator.rank, size: communicator.size)
            try refill(order: order, epoch: from, steps: 0..<bank.steps)
        }
        rec.seconds.extract = Timing.now() - t0
        // Concatenated in rank order, the banks are k-means' points; indices map them back to images.
        let sizes = try communicator.allgather([Int64(bank.count)])
        let offset = Int(sizes[..<communicator.rank].reduce(0, +)), total = Int(sizes.reduce(0, +))
        let where_ = try communicator.allgatherv(bank.indices.map { Int64($0) })
        var labels = [Int32](repeating: -100, count: heads.count * n)
        let stop = StopPoll("k-means", unit: "iteration", polls: heads.count * (recipe.kmeansIterations + 1), epoch: epoch, communicator: communicator)
        for (h, k) in heads.enumerated() {
            guard total >= k else {
                throw TrainingError.invalidConfiguration("the memory banks hold \(total) embeddings, fewer than the \(k) clusters of head \(h)")
            }
            let km = try bank.embeddings[h % bank.views].withUnsafeBufferPointer {
                try KMeans(k: k, iterations: recipe.kmeansIterations, seed: recipe.seed &+ UInt64(h), spherical: true)
                    .run($0.baseAddress!, rows: bank.count, dimension: d, offset: offset, total: total, stream: epoch, communicator: communicator,
                         stop: stop.closure)
            }
            model.setPrototypes(head: h, centroids: km.centroids)
            let all = try communicator.allgatherv(km.assignments)
            for (j, a) in all.enumerated() { labels[h * n + Int(where_[j])] = a }
            if h == 0 {
                rec.kmeans_objective = km.objectives
                rec.reseeded_clusters = km.repaired
            }
        }
        return PseudoLabels(heads: heads.count, count: n, values: labels)
    }

    /// The prototypes are the top layer, set by `labels` and never trained.
    public var topLayerStart: (weights: [Float], bias: [Float])? { nil }

    public func order(_ labels: PseudoLabels, epoch: Int) -> [Int] {
        EpochOrder.permutation(labels.count, seed: recipe.seed, epoch: epoch)
    }

    /// Lays the bank out for this pass; the steps already trained (resuming inside the epoch) are
    /// put back from the checkpoint or by forward passes.
    public func willTrain(order: [Int], epoch: Int, from step: Int) throws {
        bank.prepare(order: order, batch: recipe.batchSize, rank: communicator.rank, size: communicator.size)
        if step > 0 { try refill(order: order, epoch: epoch, steps: 0..<step) }
    }

    /// Every view of an image predicts the image's label in every head: rows view-major
    /// (`MultiCrop.batch`), one label per head.
    public func stepLabels(_ images: ArraySlice<Int>, _ labels: PseudoLabels) -> [Int32] {
        Self.viewLabels(images, views: views.count, labels: labels)
    }

    static func viewLabels(_ images: ArraySlice<Int>, views: Int, labels: PseudoLabels) -> [Int32] {
        let heads = labels.heads
        var y = [Int32](repeating: 0, count: images.count * views * heads)
        for v in 0..<views {
            for (i, image) in images.enumerated() {
                for h in 0..<heads { y[(v * images.count + i) * heads + h] = labels.label(head: h, image: image) }
            }
        }
        return y
    }

    public func didStep(_ step: Int, images: ArraySlice<Int>, embedding: Tensor?) {
        if !images.isEmpty, let z = embedding { bank.store(step: step, embeddings: z, rows: images.count) }
    }

    /// memory_bank.npy: every rank's bank, gathered on rank 0 in dataset order.
    public func checkpointArrays() throws -> [String: (values: [Float], shape: [Int])] {
        let n = images.count
        let values = try bank.gathered(count: n, communicator: communicator)
        return communicator.isRoot ? [Checkpoint.bankFile: (values, [bank.views, n, bank.dimension])] : [:]
    }

    public func resume(from loaded: Checkpoint.Loaded) {
        if let f = loaded.memoryBankFile, let l = try? NPY.readLayout(f), l.shape == [bank.views, images.count, bank.dimension] {
            savedBank = f
        }
    }

    /// Puts back `steps` of the bank laid out for `order`: from the checkpoint's bank when resuming,
    /// otherwise by forward passes.
    private func refill(order: [Int], epoch: Int, steps: Range<Int>) throws {
        if let saved = savedBank {
            try bank.restore(fromFile: saved, count: images.count, steps: steps)
            savedBank = nil
            rankLog("memory bank restored from the checkpoint: \(bank.count) rows")
        } else {
            try fill(order: order, epoch: epoch, steps: steps)
            rankLog("memory bank filled by a forward pass over epoch \(epoch)'s order: \(bank.count) rows")
        }
    }

    /// Forward passes (batch statistics, no gradient, no dropout) over `steps` of a pass over `order`,
    /// storing the assignment views' embeddings in the memory bank, already laid out for `order`.
    private func fill(order: [Int], epoch: Int, steps: Range<Int>) throws {
        guard !steps.isEmpty else { return }
        let model = trainer.model
        let (rank, size, seed, images, b) = (communicator.rank, communicator.size, recipe.seed, images, recipe.batchSize)
        let kept = Array(views.prefix(bank.views))
        let loader = Prefetcher(batches: steps.count, workers: workers) { i, tensor in
            let idx = BatchSplit.slice(order, step: steps.lowerBound + i, batch: b, rank: rank, size: size)
            if !idx.isEmpty { try MultiCrop.batch(kept, source: images, indices: idx, seed: seed, epoch: epoch, into: tensor) }
        }
        defer { loader.finish() }
        // Every rank fills the same steps: one safe point after each.
        let stop = StopPoll("bank fill", unit: "step", polls: steps.count, epoch: epoch, communicator: communicator)
        for s in steps {
            let x = try loader.next()
            let rows = BatchSplit.slice(order, step: s, batch: b, rank: rank, size: size).count
            if rows > 0 {
                let z = model.forward(x, mode: Mode(dropout: false, batchStatistics: true), through: model.embeddingLayer!)
                bank.store(step: s, embeddings: z, rows: rows)
            }
            try stop.check()
        }
    }
}
