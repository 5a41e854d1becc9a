import ArgumentParser
import Clustering
import Collective
import Datasets
import Tensor

/// PCA-whitening and k-means seconds on N points of dimension D, distributed over the ranks — the
/// peer's workload (bench_kmeans.py): Fashion-MNIST pixels through a fixed Gaussian 784→256
/// projection and a ReLU, PCA-whitened to 64 and L2-normalised.
struct BenchKMeans: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kmeans", abstract: "PCA and k-means seconds (N=60,000, D=64, k=100 and 1,000).")
    @OptionGroup var common: CommonBenchOptions
    @Option(help: "Points (default: 60000, Fashion-MNIST's training set; more repeat it with noise).") var points = 60000
    @Option(name: .customLong("pca-dim"), help: "Dimension after PCA (default: 64).") var pcaDim = 64
    @Option(parsing: .upToNextOption, help: "Cluster counts (default: 100 1000).") var clusters: [Int] = [100, 1000]
    @Option(help: "k-means iterations (default: 20).") var iterations = 20
    @Option(help: "Repetitions; medians are reported (default: 3).") var reps = 3

    func run() throws {
        guard points >= 2 && points <= 100_000_000 else { throw ValidationError("--points must be between 2 and 100000000, got \(points)") }
        guard clusters.allSatisfy({ $0 >= 2 && $0 <= points }) else { throw ValidationError("--clusters must be between 2 and --points, got \(clusters)") }
        common.runtime.run { comm in
            let p = FashionMNIST.paths()
            let set = try IDX.load(images: p.images, labels: nil)
            // Past the 60,000 images, point i is image i mod 60,000 with seeded noise (σ = 0.01 of the
            // pixel range), so weak scaling can grow the problem with the ranks without exact duplicates.
            let n = points
            let shard = Shard.range(count: n, rank: comm.rank, size: comm.size)
            var rng = RandomGenerator(seed: 0, purpose: .synthetic)
            let g = (0..<(784 * 256)).map { _ in Float(rng.normal() / 28.0) }
            var x256 = [Float](repeating: 0, count: shard.count * 256)
            var noise = RandomGenerator(seed: 1, purpose: .synthetic, comm.rank)
            var px = [Float](repeating: 0, count: shard.count * 784)
            for (row, i) in shard.enumerated() {
                let image = i % set.count
                for j in 0..<784 {
                    let v = Float(set.pixels[image * 784 + j]) / 255
                    px[row * 784 + j] = i < set.count ? v : v + Float(noise.normal() * 0.01)
                }
            }
            BLAS.sgemm(m: shard.count, n: 256, k: 784, a: px, lda: 784, b: g, ldb: 256, c: &x256, ldc: 256)
            for i in 0..<x256.count { x256[i] = max(0, x256[i]) }
            var z = [Float](repeating: 0, count: shard.count * pcaDim)
            var pcaTimes: [Double] = []
            for _ in 0..<reps {
                try comm.barrier()
                let t0 = Timing.now()
                let pca = try PCAWhitening(fitting: x256, rows: shard.count, columns: 256, dimension: pcaDim, communicator: comm)
                pca.apply(x256, rows: shard.count, into: &z)
                pcaTimes.append(try comm.allreduce(Timing.now() - t0, op: .max))
            }
            var r = BenchReport()
            r.add("bench", "pca"); r.add("n", n); r.add("d_in", 256); r.add("d", pcaDim); r.add("ranks", comm.size)
            r.add("threads", BLAS.threads); r.add("seconds", pcaTimes.median); r.add("median_of", reps)
            r.emit(comm, json: common.json)
            for k in clusters {
                var times: [Double] = []
                var objective = 0.0
                for _ in 0..<reps {
                    try comm.barrier()
                    let t0 = Timing.now()
                    let res = try KMeans(k: k, iterations: iterations, seed: 0)
                        .run(z, rows: shard.count, dimension: pcaDim, offset: shard.lowerBound, total: n, stream: 0, communicator: comm)
                    times.append(try comm.allreduce(Timing.now() - t0, op: .max))
                    objective = res.objectives.last ?? .nan
                }
                var r = BenchReport()
                r.add("bench", "kmeans"); r.add("n", n); r.add("d", pcaDim); r.add("k", k); r.add("iterations", iterations)
                r.add("ranks", comm.size); r.add("threads", BLAS.threads); r.add("seconds", times.median)
                r.add("objective", objective); r.add("median_of", reps)
                r.emit(comm, json: common.json)
            }
        }
    }
}
