import Foundation

/// Predicted weak- and strong-scaling efficiency of each stage of the epoch, from what one node
/// measures (compute per image or point, the fraction of the allreduce hidden behind backward) and a
/// network given as latency α and bandwidth β (Hockney: a message of s bytes costs α + s/β).
///
/// Collectives cost what Open MPI's tuned component picks for them: allreduce of small messages by
/// recursive doubling (log₂ R (α + s/β), ⌊log₂ R⌋ + 2 steps when R is not a power of two), of large ones (≥ 64 KiB) by a ring, reduce-scatter then
/// allgather (2(R−1) α + 2 (R−1)/R · s/β); allgather(v) by a ring ((R−1) α + (R−1)/R · s/β).
/// Ranks fill nodes of `coresPerNode` cores at `threadsPerRank` each; ranks that share a node also
/// share its cores (compute slows by ranks·threads ÷ cores past one rank per core), and a job on one
/// node uses the node's own (shared-memory) link, a job on several the network's.
public struct ScalingModel: Sendable {
    public struct Link: Sendable, Equatable {
        public var latency: Double        // seconds
        public var bytesPerSecond: Double
        public init(latency: Double, bytesPerSecond: Double) { self.latency = latency; self.bytesPerSecond = bytesPerSecond }
        public init(gbps: Double, latencyMicroseconds: Double) { self.init(latency: latencyMicroseconds * 1e-6, bytesPerSecond: gbps * 1e9 / 8) }
        /// Typical MPI figures (point-to-point latency, payload bandwidth) of common cluster links.
        public static let presets: [(name: String, link: Link)] = [
            ("10gbe", Link(gbps: 10, latencyMicroseconds: 25)), ("25gbe", Link(gbps: 25, latencyMicroseconds: 15)),
            ("100gbe", Link(gbps: 100, latencyMicroseconds: 8)), ("hdr-ib", Link(gbps: 200, latencyMicroseconds: 1.5)),
        ]
    }

    /// What one node measured.
    public struct Measurements: Sendable {
        /// One training step at `batchPerRank` images on one rank, and the gradient it allreduces.
        public var stepSeconds: Double, batchPerRank: Int, gradientBytes: Int
        /// Share of the gradient allreduce hidden behind backward (bench step on 2 ranks).
        public var hiddenFraction: Double
        /// Eval-mode forward seconds per image on one rank.
        public var extractSecondsPerImage: Double
        /// k-means seconds per point and per assignment pass at (k, dimension), one rank.
        public var kmeansSecondsPerPointPass: Double, k: Int, dimension: Int, kmeansIterations: Int
        /// Dimension of the features PCA reduces (its D×D statistics are allreduced).
        public var featureDimension: Int
        /// How much slower a rank computes beside others on a full node than alone on it (memory
        /// bandwidth and caches are shared): the compute part of the 2-rank step ÷ the 1-rank step.
        public var sharedNodeSlowdown: Double = 1
        /// The same for extraction (eval-mode forward) and for k-means, whose memory traffic differs.
        public var extractSharedNodeSlowdown: Double = 1, kmeansSharedNodeSlowdown: Double = 1
        /// Marginal seconds of one more image in a step (from steps at two batch sizes on one rank): a
        /// step costs stepSeconds + (b − batchPerRank) · this. Nil: compute proportional to the batch.
        public var stepSecondsPerImage: Double?
        /// Backward's seconds in the step at `batchPerRank`: the gradient allreduce can hide behind
        /// backward only, so at most this much of it is hidden however slow the link. Nil: no bound.
        public var backwardSeconds: Double?
        /// The trainer's gradient buckets (--bucket-bytes, 1 MiB by default).
        public var gradientBucketBytes = 1 << 20
        public init(stepSeconds: Double, batchPerRank: Int, gradientBytes: Int, hiddenFraction: Double, extractSecondsPerImage: Double,
                    kmeansSecondsPerPointPass: Double, k: Int, dimension: Int, kmeansIterations: Int, featureDimension: Int) {
            self.stepSeconds = stepSeconds; self.batchPerRank = batchPerRank; self.gradientBytes = gradientBytes
            self.hiddenFraction = hiddenFraction; self.extractSecondsPerImage = extractSecondsPerImage
            self.kmeansSecondsPerPointPass = kmeansSecondsPerPointPass; self.k = k; self.dimension = dimension
            self.kmeansIterations = kmeansIterations; self.featureDimension = featureDimension
        }
    }

    public var measured: Measurements
    /// The node's own link (fit from bench allreduce on this node) and the network between nodes.
    public var nodeLink: Link, network: Link
    public var coresPerNode: Int, threadsPerRank: Int
    /// Nodes the ranks run on; nil: as many as one rank per core needs.
    public var nodes: Int?
    /// When the nodes are not separate machines but share one machine's cores (the network-namespace
    /// cluster of Launch/netns-cluster.sh): those cores, which every rank of the job then shares.
    public var sharedCores: Int?
    /// Images per rank of the weak-scaling epoch, and images of the strong-scaling one.
    public var imagesPerRank: Int, images: Int

    public init(measured: Measurements, nodeLink: Link, network: Link, coresPerNode: Int, threadsPerRank: Int,
                imagesPerRank: Int, images: Int, nodes: Int? = nil) {
        self.measured = measured; self.nodeLink = nodeLink; self.network = network; self.nodes = nodes
        self.coresPerNode = coresPerNode; self.threadsPerRank = threadsPerRank
        self.imagesPerRank = imagesPerRank; self.images = images
    }

    /// Ranks on the busiest node: one per `threadsPerRank` cores across as many nodes as needed, or
    /// all on `nodes` nodes when that is fixed (a sweep on this one machine).
    func ranksPerNode(_ ranks: Int) -> Int {
        if let nodes { return (ranks + nodes - 1) / max(nodes, 1) }
        return min(ranks, max(1, coresPerNode / threadsPerRank))
    }
    public func link(_ ranks: Int) -> Link { ranksPerNode(ranks) >= ranks ? nodeLink : network }
    /// How much slower a rank computes when it shares its node: ranks × threads past the node's cores
    /// share them, and ranks beside each other share memory bandwidth (`sharedNodeSlowdown`).
    public enum Stage: Sendable { case step, extraction, kmeans }
    public func crowding(_ ranks: Int, _ stage: Stage = .step) -> Double {
        let sharing = sharedCores.map { _ in ranks } ?? ranksPerNode(ranks)
        let cores = sharedCores ?? coresPerNode
        let slowdown: Double
        switch stage {
        case .step: slowdown = measured.sharedNodeSlowdown
        case .extraction: slowdown = measured.extractSharedNodeSlowdown
        case .kmeans: slowdown = measured.kmeansSharedNodeSlowdown
        }
        return max(1, Double(sharing * threadsPerRank) / Double(cores)) * (sharing > 1 ? slowdown : 1)
    }

    public func allreduceSeconds(bytes: Int, ranks: Int) -> Double {
        guard ranks > 1 else { return 0 }
        let l = link(ranks), r = Double(ranks), s = Double(bytes)
        if bytes < 65536 {
            // Recursive doubling; at a count that is not a power of two the extra ranks first hand their
            // data to a partner and get the result back after: two more steps (Open MPI's base algorithm).
            let steps = ranks & (ranks - 1) == 0 ? log2(r) : floor(log2(r)) + 2
            return steps * (l.latency + s / l.bytesPerSecond)
        }
        return 2 * (r - 1) * l.latency + 2 * (r - 1) / r * s / l.bytesPerSecond
    }

    /// The trainer's gradient allreduce: buckets of `bucketBytes` started with MPI_Iallreduce in place.
    /// Open MPI's libnbc runs an in-place iallreduce as a binomial reduce to rank 0 then a binomial
    /// broadcast (whatever the count: nbc_iallreduce.c picks its ring only for out-of-place buffers),
    /// so rank 0 receives and sends ⌈log₂ R⌉ copies of every bucket; buckets pipeline, the last one
    /// adds its own depth: 2⌈log₂ R⌉ α + ⌈log₂ R⌉ (s + b) / β.
    public func bucketedAllreduceSeconds(bytes: Int, bucketBytes: Int, ranks: Int) -> Double {
        guard ranks > 1 else { return 0 }
        let l = link(ranks), depth = ceil(log2(Double(ranks)))
        return 2 * depth * l.latency + depth * Double(bytes + min(bucketBytes, bytes)) / l.bytesPerSecond
    }

    public func allgatherSeconds(totalBytes: Int, ranks: Int) -> Double {
        guard ranks > 1 else { return 0 }
        let l = link(ranks), r = Double(ranks)
        return (r - 1) * l.latency + (r - 1) / r * Double(totalBytes) / l.bytesPerSecond
    }

    /// Compute seconds of one step with `batch` images on one rank alone: affine in the batch when
    /// steps at two batch sizes were measured (a fixed part: the update, per-layer set-up), else linear.
    public func stepComputeSeconds(batchPerRank batch: Double) -> Double {
        let m = measured, b0 = Double(m.batchPerRank)
        guard let slope = m.stepSecondsPerImage else { return m.stepSeconds * batch / b0 }
        return max(m.stepSeconds * 0.05 * batch / b0, m.stepSeconds + (batch - b0) * slope)
    }

    /// Seconds of one step with `batch` images on each of `ranks` ranks: compute, plus the part of the
    /// gradient allreduce not hidden — the measured share (1 − h) of a blocking one, or all of the
    /// bucketed one that outlasts backward when the link is so slow that it runs longer than backward
    /// — plus the step's small allreduce of the loss and the stop flag.
    public func stepSeconds(batchPerRank batch: Double, ranks: Int) -> Double {
        let compute = stepComputeSeconds(batchPerRank: batch) * crowding(ranks)
        // The hidden fraction was measured against a blocking allreduce of the gradient (bench step).
        var exposed = (1 - measured.hiddenFraction) * allreduceSeconds(bytes: measured.gradientBytes, ranks: ranks)
        if let backward = measured.backwardSeconds {
            let buckets = bucketedAllreduceSeconds(bytes: measured.gradientBytes, bucketBytes: measured.gradientBucketBytes, ranks: ranks)
            exposed = max(exposed, buckets - backward * compute / measured.stepSeconds)
        }
        return compute + exposed + allreduceSeconds(bytes: 24, ranks: ranks)
    }

    /// Seconds of one k-means run over `points` spread over `ranks` (iterations + 1 assignment passes).
    public func kmeansSeconds(points: Int, ranks: Int) -> Double {
        let m = measured, passes = Double(m.kmeansIterations + 1)
        let compute = Double(points) / Double(ranks) * m.kmeansSecondsPerPointPass * passes * crowding(ranks, .kmeans)
        let reduce = allreduceSeconds(bytes: 8 * (m.k + m.k * m.dimension + 1), ranks: ranks) * Double(m.kmeansIterations)
        return compute + reduce
    }

    /// One epoch over `points` images on `ranks` ranks, by stage.
    public func epochSeconds(images n: Int, ranks: Int) -> (extract: Double, cluster: Double, train: Double) {
        let m = measured
        let extract = Double(n) / Double(ranks) * m.extractSecondsPerImage * crowding(ranks, .extraction)
        let pca = allreduceSeconds(bytes: 8 * m.featureDimension * m.featureDimension, ranks: ranks)
        let labels = allgatherSeconds(totalBytes: 4 * n, ranks: ranks)
        let steps = Double(n) / Double(m.batchPerRank * ranks)
        return (extract, pca + kmeansSeconds(points: n, ranks: ranks) + labels, steps * stepSeconds(batchPerRank: Double(m.batchPerRank), ranks: ranks))
    }

    public struct Efficiency: Sendable {
        public var ranks: Int
        /// Stage name → (weak, strong) efficiency.
        public var stages: [(stage: String, weak: Double, strong: Double)]
    }

    public static let stageNames = ["step", "extraction", "kmeans", "epoch"]

    /// Efficiency of each stage at `ranks`: weak keeps the work per rank of one rank (its batch, its
    /// images), strong divides the one-rank work (a global batch of `batchPerRank`, `images` images).
    public func efficiency(ranks: Int) -> Efficiency {
        let m = measured, r = Double(ranks)
        let step1 = stepSeconds(batchPerRank: Double(m.batchPerRank), ranks: 1)
        let stepWeak = step1 / stepSeconds(batchPerRank: Double(m.batchPerRank), ranks: ranks)
        let stepStrong = step1 / (r * stepSeconds(batchPerRank: Double(m.batchPerRank) / r, ranks: ranks))
        let e1 = epochSeconds(images: imagesPerRank, ranks: 1)
        let ew = epochSeconds(images: imagesPerRank * ranks, ranks: ranks)
        let es = epochSeconds(images: images, ranks: ranks), es1 = epochSeconds(images: images, ranks: 1)
        func total(_ e: (extract: Double, cluster: Double, train: Double)) -> Double { e.extract + e.cluster + e.train }
        let extractWeak = e1.extract / (ew.extract + allgatherSeconds(totalBytes: 4 * imagesPerRank * ranks, ranks: ranks))
        let extractStrong = es1.extract / (r * (es.extract + allgatherSeconds(totalBytes: 4 * images, ranks: ranks)))
        let kmWeak = kmeansSeconds(points: imagesPerRank, ranks: 1) / kmeansSeconds(points: imagesPerRank * ranks, ranks: ranks)
        let kmStrong = kmeansSeconds(points: images, ranks: 1) / (r * kmeansSeconds(points: images, ranks: ranks))
        return Efficiency(ranks: ranks, stages: [("step", stepWeak, stepStrong), ("extraction", extractWeak, extractStrong),
                                                 ("kmeans", kmWeak, kmStrong), ("epoch", total(e1) / total(ew), total(es1) / (r * total(es)))])
    }
}
