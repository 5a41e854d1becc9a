import Clustering
import Collective
import Datasets
import NN
import Tensor

/// The parts of the epoch DeepCluster-v2 does its own way (`swav/main_deepclusterv2.py`,
/// ../shared/reference/deepcluster.md §2): clustering the memory bank with distributed spherical
/// k-means, one set of prototypes per head, and the labels of every view.
extension DeepClusterRun {
    /// Steps 1–4 for DeepCluster-v2: spherical k-means of every head on the concatenated memory banks
    /// (head h on view h mod 2, as `crops_for_assign 0 1`), its centroids copied into the head's
    /// prototypes, and the labels gathered back to dataset order: one row of n per head.
    ///
    /// The bank comes from the previous epoch's training pass, or after a resume from the checkpoint.
    /// At the start (and after a resume from a checkpoint without one), one forward pass over the
    /// pass the bank would hold fills it first — SwAV's `init_memory`. Its seconds are reported as `extract`.
    func clusterMemory(epoch: Int, record rec: inout EpochRecord, times: inout (extract: Double, pca: Double)) throws -> [Int32] {
        guard let bank else { preconditionFailure("clusterMemory without a memory bank") }
        let n = images.count, heads = model.head.clusters, d = model.embeddingDimension
        if !bank.isComplete {
            let from = max(epoch - 1, 0)
            let order = Self.permutation(n, seed: config.seed, epoch: from)
            bank.prepare(order: order, batch: config.batchSize, rank: communicator.rank, size: communicator.size)
            try refillBank(order: order, epoch: from, steps: 0..<bank.steps)
        }
        times.extract = Timing.now()
        times.pca = times.extract
        // Concatenated in rank order, the banks are k-means' points; indices map them back to images.
        let sizes = try communicator.allgather([Int64(bank.count)])
        let offset = Int(sizes[..<communicator.rank].reduce(0, +)), total = Int(sizes.reduce(0, +))
        let where_ = try communicator.allgatherv(bank.indices.map { Int64($0) })
        var labels = [Int32](repeating: -100, count: heads.count * n)
        for (h, k) in heads.enumerated() {
            guard total >= k else {
                throw TrainingError.invalidConfiguration("the memory banks hold \(total) embeddings, fewer than the \(k) clusters of head \(h)")
            }
            let km = try bank.embeddings[h % bank.views].withUnsafeBufferPointer {
                try KMeans(k: k, iterations: config.kmeansIterations, seed: config.seed &+ UInt64(h), spherical: true)
                    .run($0.baseAddress!, rows: bank.count, dimension: d, offset: offset, total: total, epoch: epoch, communicator: communicator)
            }
            model.setPrototypes(head: h, centroids: km.centroids)
            let all = try communicator.allgatherv(km.assignments)
            for (j, a) in all.enumerated() { labels[h * n + Int(where_[j])] = a }
            if h == 0 {
                rec.kmeans_objective = km.objectives
                rec.reseeded_clusters = km.repaired
            }
        }
        return labels
    }

    /// Puts back `steps` of the bank laid out for `order`: from the checkpoint's bank when resuming,
    /// otherwise by forward passes.
    func refillBank(order: [Int], epoch: Int, steps: Range<Int>) throws {
        guard let bank else { return }
        if let saved = loadedBankFile {
            try bank.restore(fromFile: saved, count: images.count, steps: steps)
            loadedBankFile = nil
            rankLog("memory bank restored from the checkpoint: \(bank.count) rows")
        } else {
            try fillBank(order: order, epoch: epoch, steps: steps)
            rankLog("memory bank filled by a forward pass over epoch \(epoch)'s order: \(bank.count) rows")
        }
    }

    /// Forward passes (batch statistics, no gradient, no dropout) over `steps` of a pass over `order`,
    /// storing the assignment views' embeddings in the memory bank, already laid out for `order`.
    func fillBank(order: [Int], epoch: Int, steps: Range<Int>) throws {
        guard let bank, !steps.isEmpty else { return }
        let (rank, size, seed, images, b) = (communicator.rank, communicator.size, config.seed, images, config.batchSize)
        let kept = Array(views.prefix(bank.views))
        let loader = Prefetcher(batches: steps.count, workers: config.workers) { i, tensor in
            let idx = BatchSplit.slice(order, step: steps.lowerBound + i, batch: b, rank: rank, size: size)
            if !idx.isEmpty { try MultiCrop.batch(kept, source: images, indices: idx, seed: seed, epoch: epoch, into: tensor) }
        }
        defer { loader.finish() }
        for s in steps {
            let x = try loader.next()
            let rows = BatchSplit.slice(order, step: s, batch: b, rank: rank, size: size).count
            guard rows > 0 else { continue }
            _ = model.forward(x, mode: Mode(dropout: false, batchStatistics: true), through: model.embeddingLayer!)
            bank.store(step: s, embeddings: model.embedding!, rows: rows)
        }
    }

    /// A shuffle of 0..<n drawn from (seed, epoch): the same on every rank.
    static func permutation(_ n: Int, seed: UInt64, epoch: Int) -> [Int] {
        var order = Array(0..<n)
        var rng = RandomGenerator(seed: seed, purpose: .permutation, epoch)
        rng.shuffle(&order)
        return order
    }

    /// Labels of a step's rows as the prototype loss reads them: rows view-major (`MultiCrop.batch`),
    /// H labels per row, each view of an image taking that image's label in every head.
    static func viewLabels(_ idx: ArraySlice<Int>, views: Int, heads: Int, assignments: [Int32], count n: Int) -> [Int32] {
        var y = [Int32](repeating: 0, count: idx.count * views * heads)
        for v in 0..<views {
            for (i, image) in idx.enumerated() {
                for h in 0..<heads { y[(v * idx.count + i) * heads + h] = assignments[h * n + image] }
            }
        }
        return y
    }
}
