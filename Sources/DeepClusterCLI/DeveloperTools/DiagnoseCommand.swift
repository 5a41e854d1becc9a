import ArgumentParser
import Clustering
import Collective
import DeepCluster
import Datasets
import Foundation
import NN
import Tensor
import TestSupport

/// Deterministic distributed runs that the multi-rank tests compare across rank counts.
struct DiagnoseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diagnose",
        abstract: "Deterministic distributed checks used by the test suite (k-means, PCA, training steps).",
        shouldDisplay: false,
        subcommands: [DiagnoseKMeans.self, DiagnosePCA.self, DiagnoseManifold.self, DiagnoseTrainSteps.self, DiagnoseExportModel.self])
}

/// Synthetic points: `blobs` well-separated Gaussian clusters in D dimensions (point i belongs to
/// blob i % blobs), identical on every rank whatever the rank count. With `distinct` set, only that
/// many different points exist (duplicates), to force empty clusters.
func syntheticPoints(n: Int, d: Int, blobs: Int, seed: UInt64, distinct: Int?) -> [Float] {
    var centres = RandomGenerator(seed: seed, purpose: .synthetic, -1)
    let c = (0..<(blobs * d)).map { _ in Float(centres.normal() * 10) }
    var out = [Float](repeating: 0, count: n * d)
    for i in 0..<n {
        let src = distinct.map { i % $0 } ?? i
        var rng = RandomGenerator(seed: seed, purpose: .synthetic, src)
        let b = src % blobs
        for j in 0..<d { out[i * d + j] = c[b * d + j] + Float(rng.normal() * 0.5) }
    }
    return out
}

struct DiagnoseKMeans: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kmeans")
    @Option var points = 3000
    @Option var dim = 8
    @Option var clusters = 5
    @Option var blobs = 5
    @Option var iterations = 10
    @Option var seed: UInt64 = 1
    @Option(help: "Only this many distinct points.") var distinct: Int?
    @Option var centroidsOut: String?

    func run() throws {
        MPIRuntime.run(threads: 1) { comm in
            let x = syntheticPoints(n: points, d: dim, blobs: blobs, seed: seed, distinct: distinct)
            let shard = Shard.range(count: points, rank: comm.rank, size: comm.size)
            let local = Array(x[(shard.lowerBound * dim)..<(shard.upperBound * dim)])
            let res = try KMeans(k: clusters, iterations: iterations, seed: seed)
                .run(local, rows: shard.count, dimension: dim, offset: shard.lowerBound, total: points, stream: 0, communicator: comm)
            let all = try comm.allgatherv(res.assignments)
            // Every rank must hold the same centroids.
            let spread = try Checksum.rangeOverRanks(res.centroids, communicator: comm)
            let same = spread.min == spread.max
            if comm.isRoot {
                let objs = res.objectives.map { String(format: "%.9g", $0) }.joined(separator: ",")
                print("{\"objectives\": [\(objs)], \"repaired\": \(res.repaired), \"sizes\": \(res.sizes), "
                      + "\"assignments\": \(all.map(Int.init)), \"centroids_equal_on_all_ranks\": \(same), "
                      + "\"centroids\": [\(res.centroids.map { String(format: "%.9g", $0) }.joined(separator: ","))]}")
                if let path = centroidsOut {
                    try NPY.encode(res.centroids, dtype: .float32, shape: [clusters, dim]).write(to: URL(fileURLWithPath: path))
                }
            }
        }
    }
}

struct DiagnosePCA: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pca")
    @Option var points = 4000
    @Option var dim = 32
    @Option var components = 16

    func run() throws {
        MPIRuntime.run(threads: 1) { comm in
            // Correlated features: random mixing of independent draws with very different scales.
            var mix = RandomGenerator(seed: 9, purpose: .synthetic, -2)
            let m = (0..<(dim * dim)).map { _ in Float(mix.normal()) }
            let shard = Shard.range(count: points, rank: comm.rank, size: comm.size)
            var x = [Float](repeating: 0, count: shard.count * dim)
            for (r, i) in shard.enumerated() {
                var g = RandomGenerator(seed: 9, purpose: .synthetic, i)
                let z = (0..<dim).map { Float(g.normal()) * Float(1 + $0) }
                for j in 0..<dim { var s: Float = 3; for l in 0..<dim { s += m[j * dim + l] * z[l] }; x[r * dim + j] = s }
            }
            let pca = try PCAWhitening(fitting: x, rows: shard.count, columns: dim, dimension: components, communicator: comm)
            var y = [Float](repeating: 0, count: shard.count * components)
            pca.apply(x, rows: shard.count, into: &y, normalize: false)
            // Global covariance of the whitened features.
            var cov = [Double](repeating: 0, count: components * components + components)
            for r in 0..<shard.count {
                for a in 0..<components {
                    cov[components * components + a] += Double(y[r * components + a])
                    for b in 0..<components { cov[a * components + b] += Double(y[r * components + a]) * Double(y[r * components + b]) }
                }
            }
            try comm.allreduce(&cov, op: .sum)
            var worst = 0.0
            for a in 0..<components {
                for b in 0..<components {
                    let mean = cov[components * components + a] * cov[components * components + b] / Double(points * points)
                    let c = cov[a * components + b] / Double(points) - mean
                    worst = max(worst, abs(c - (a == b ? 1 : 0)))
                }
            }
            if comm.isRoot { print("{\"max_abs_cov_minus_identity\": \(worst)}") }
        }
    }
}

/// N data-parallel steps of fmnist-alexnet on synthetic images (image i is the same on every rank
/// count), then the parameters' checksum across ranks and, optionally, rank 0's parameters as .npy.
struct DiagnoseTrainSteps: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train-steps")
    @Option var steps = 1
    @Option(name: .customLong("batch-size")) var batchSize = 24
    @Flag(help: "BatchNorm on running statistics (eval) while training.") var frozenBn = false
    @Flag var noDropout = false
    @Option var dump: String?
    @Option var injectNanRank: Int?
    @Option var injectNanStep: Int?
    @Option(name: .customLong("bucket-bytes")) var bucketBytes = 1 << 16

    func run() throws {
        MPIRuntime.run(threads: 1) { comm in
            let arch = noDropout ? Architecture.fmnistAlexNet.withDropout(0) : Architecture.fmnistAlexNet
            let k = 10
            let model = Model(architecture: arch, numClasses: k, seed: 4)
            let trainer = try DataParallelTrainer(model: model, communicator: comm, learningRate: 0.05, momentum: 0.9,
                                                  weightDecay: 1e-5, bucketBytes: bucketBytes, seed: 4)
            trainer.mode = Mode(dropout: !noDropout, batchStatistics: !frozenBn)
            if let r = injectNanRank { trainer.injectNaN = (r, injectNanStep ?? 0) }
            let x = Tensor(shape: [0])
            var losses: [Double] = []
            for s in 0..<steps {
                let mine = Shard.range(count: batchSize, rank: comm.rank, size: comm.size)
                let images = (s * batchSize + mine.lowerBound)..<(s * batchSize + mine.upperBound)
                x.resize([1, images.count, 28, 28])
                for (b, i) in images.enumerated() {
                    var g = RandomGenerator(seed: 4, purpose: .synthetic, i)
                    for p in 0..<784 { x[b * 784 + p] = Float(g.normal()) }
                }
                losses.append(try trainer.step(input: x, labels: images.map { Int32($0 % k) }, globalBatch: batchSize).loss)
            }
            let (lo, hi) = try trainer.parameterChecksum()
            if comm.isRoot {
                print("{\"losses\": [\(losses.map { String(format: "%.9g", $0) }.joined(separator: ","))], \"checksum_equal\": \(lo == hi), "
                      + "\"buckets\": \(trainer.reducer.buckets.count)}")
                if let path = dump {
                    try NPY.encode(Array(model.store.parameters), dtype: .float32, shape: [model.parameterCount]).write(to: URL(fileURLWithPath: path))
                }
            }
        }
    }
}

/// Writes the interop model (see InteropModel) as model.safetensors, for the PyTorch fixture script.
struct DiagnoseExportModel: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export-model")
    @Option var out: String

    func run() throws {
        let model = InteropModel.make()
        try AtomicFile.write(Checkpoint.modelData(model, metadata: ["format": "pt", "arch": "fmnist-alexnet"]), to: out)
        print("wrote \(out)")
    }
}
