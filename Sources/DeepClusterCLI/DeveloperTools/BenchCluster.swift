import ArgumentParser
import Clustering
import Collective
import Datasets
import DeepCluster
import Tensor

/// The clustering stage at ImageNet scale on synthetic features: N points of `--input-dim` drawn
/// around `--true-clusters` seeded centres (so k-means has structure to find), PCA-whitened to
/// `--dim` and L2-normalised as the epoch does, then distributed k-means. Each rank makes only its
/// own shard (point i is the same whatever the rank count), so memory per rank is N ÷ ranks rows.
/// The peer's side of the comparison is `benchmarks/faiss_cluster.py` on the same array.
struct BenchCluster: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cluster",
        abstract: "PCA + k-means on synthetic clustered features: seconds per iteration and peak memory per rank (the paper's 1.28 M × 256, k = 10,000 by default).")
    @OptionGroup var common: CommonBenchOptions
    @Option(help: "Points (default: 1280000, ImageNet's training set).") var points = 1_280_000
    @Option(help: "Dimension k-means runs in, after PCA (default: 256, the paper's).") var dim = 256
    @Option(name: .customLong("input-dim"), help: "Dimension of the synthetic features before PCA (default: --dim).") var inputDim: Int?
    @Option(help: "Clusters (default: 10000, the paper's k for ImageNet).") var k = 10_000
    @Option(name: .customLong("true-clusters"), help: "Centres the points are drawn around (default: --k).") var trueClusters: Int?
    @Option(help: "k-means iterations (default: 20; fewer still give seconds per iteration).") var iterations = 20
    @Option(help: "Seed of the synthetic features and of k-means (default: 0).") var seed: UInt64 = 0
    @Option(name: .customLong("write-npy"), help: "Also write the PCA'd, normalised N×dim array (the k-means input) to this .npy, each rank its rows, for faiss to cluster the same points (benchmarks/faiss_cluster.py).") var writeNPY: String?

    func run() throws {
        let d0 = inputDim ?? dim, centres = trueClusters ?? k
        guard points >= 2 && points <= 100_000_000 else { throw ValidationError("--points must be between 2 and 100000000, got \(points)") }
        guard dim >= 1 && dim <= d0 && d0 <= 65536 else { throw ValidationError("--dim must be between 1 and --input-dim (at most 65536), got \(dim) and \(d0)") }
        guard k >= 2 && k <= points else { throw ValidationError("--k must be between 2 and --points, got \(k)") }
        guard centres >= 1 && centres <= points else { throw ValidationError("--true-clusters must be between 1 and --points, got \(centres)") }
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1, got \(iterations)") }
        common.runtime.run { comm in
            let shard = Shard.range(count: points, rank: comm.rank, size: comm.size)
            let t0 = Timing.now()
            let x = SyntheticFeatures.make(rows: shard, dimension: d0, centres: centres, seed: seed)
            let makeSeconds = try comm.allreduce(Timing.now() - t0, op: .max)
            try comm.barrier()
            let t1 = Timing.now()
            let pca = try PCAWhitening(fitting: x, rows: shard.count, columns: d0, dimension: dim, communicator: comm)
            var z = [Float](repeating: 0, count: shard.count * dim)
            pca.apply(x, rows: shard.count, into: &z)
            let pcaSeconds = try comm.allreduce(Timing.now() - t1, op: .max)
            if let path = writeNPY {
                try SharedArrayFile.write(rows: z, firstRow: shard.lowerBound, totalRows: points, columns: dim, to: path, communicator: comm)
            }
            try comm.barrier()
            let t2 = Timing.now()
            let result = try KMeans(k: k, iterations: iterations, seed: seed)
                .run(z, rows: shard.count, dimension: dim, offset: shard.lowerBound, total: points, stream: 0, communicator: comm)
            let kmeansSeconds = try comm.allreduce(Timing.now() - t2, op: .max)
            var r = BenchReport()
            r.add("bench", "cluster"); r.add("points", points); r.add("input_dim", d0); r.add("dim", dim); r.add("k", k)
            r.add("true_clusters", centres); r.add("iterations", iterations); r.add("ranks", comm.size); r.add("threads", BLAS.threads)
            r.add("synthesis_seconds", makeSeconds); r.add("pca_seconds", pcaSeconds); r.add("kmeans_seconds", kmeansSeconds)
            // iterations + 1 assignment passes (the last against the final centroids, as faiss's search).
            r.add("seconds_per_iteration", kmeansSeconds / Double(iterations + 1))
            r.add("objective", result.objectives.last ?? .nan); r.add("empty_clusters_split", result.repaired)
            r.add("smallest_cluster", result.sizes.min() ?? 0); r.add("largest_cluster", result.sizes.max() ?? 0)
            r.add("peak_rss_bytes", try largestPeakRSS(comm))
            r.emit(comm, json: common.json)
        }
    }
}

/// Seeded points around seeded centres: centre c is N(0, 1)^D, point i is centre (i mod C) plus
/// N(0, 0.6²) noise per coordinate. Point i depends on (seed, i) only, so any shard can be made alone.
enum SyntheticFeatures {
    static func make(rows: Range<Int>, dimension d: Int, centres: Int, seed: UInt64) -> [Float] {
        var centreGenerator = RandomGenerator(seed: seed, purpose: .synthetic, 11)
        let c = (0..<(centres * d)).map { _ in Float(centreGenerator.normal()) }
        var x = [Float](repeating: 0, count: rows.count * d)
        let block = 1024
        var b = rows.lowerBound / block
        while b * block < rows.upperBound {
            var g = RandomGenerator(seed: seed, purpose: .synthetic, 12, b)
            for i in (b * block)..<min((b + 1) * block, rows.upperBound) {
                let keep = i >= rows.lowerBound
                let centre = (i % centres) * d, row = (i - rows.lowerBound) * d
                for j in 0..<d {
                    let noise = Float(g.normal()) * 0.6
                    if keep { x[row + j] = c[centre + j] + noise }
                }
            }
            b += 1
        }
        return x
    }
}
