import ArgumentParser
import Collective
import DeepCluster
import Datasets
import Foundation
import NN
import Tensor

/// `deepcluster assign`: places images — new ones, or the training images — among a checkpoint's
/// clusters. Each rank assigns its shard and writes its rows in place (nothing is gathered).
struct AssignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "assign",
        abstract: "Assign images to a checkpoint's clusters: assignments.npy (N, or heads × N), scores.npy, runner_up.npy, runner_up_scores.npy and assignments.csv.",
        discussion: """
        DeepCluster: the nearest of the epoch's k-means centroids in its PCA-whitened space (score: squared distance, lower
        is closer). DeepCluster-v2: the highest-scoring prototype of each head (score: cosine, higher is closer).
        """)
    @OptionGroup var source: CheckpointImageOptions
    @Option(help: "Output directory (on a filesystem every rank sees).") var out: String
    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        runtime.run { comm in
            let (model, loaded) = try Checkpoint.openModel(source.checkpoint, communicator: comm) { if comm.isRoot { print($0) } }
            if model.embeddingLayer == nil { _ = try ClusterAssignment.clustering(of: loaded) }   // an older checkpoint: say so first
            let (set, transforms, _) = try source.images(for: model, loaded, communicator: comm)
            let shard = Shard.range(count: set.count, rank: comm.rank, size: comm.size)
            let t0 = Timing.now()
            let a = try ClusterAssignment.assign(model: model, loaded: loaded, images: set, range: shard, transforms: transforms)
            if comm.isRoot { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
            try comm.barrier()
            try Self.write(a, shard: shard, total: set.count, to: out, communicator: comm)
            try Self.writeCSV(a, shard: shard, images: set, to: out, communicator: comm)
            let seconds = try comm.allreduce(Timing.now() - t0, op: .max)
            if comm.isRoot {
                let rule = a.higherIsCloser ? "the highest-scoring prototype of \(a.heads) head(s)" : "the nearest of \(model.numClasses) centroids"
                print(String(format: "assign: %d images to %@ of %@ (%@) in %.1f s; wrote %@/assignments.npy, scores.npy, runner_up.npy, runner_up_scores.npy, assignments.csv",
                             set.count, rule, loaded.path, set.kind, seconds, out))
            }
        }
    }

    /// heads × N arrays (N alone for one head), each rank's rows in place.
    static func write(_ a: ClusterAssignment, shard: Range<Int>, total: Int, to out: String, communicator comm: Communicator) throws {
        let shape = a.heads == 1 ? [total] : [a.heads, total]
        func pieces<T>(_ values: [T]) -> [(firstElement: Int, values: [T])] {
            (0..<a.heads).map { h in (h * total + shard.lowerBound, Array(values[(h * a.rows)..<((h + 1) * a.rows)])) }
        }
        try SharedArrayFile.write(pieces: pieces(a.clusters.map(Int64.init)), dtype: .int64, shape: shape, to: "\(out)/assignments.npy", communicator: comm)
        try SharedArrayFile.write(pieces: pieces(a.scores), dtype: .float32, shape: shape, to: "\(out)/scores.npy", communicator: comm)
        try SharedArrayFile.write(pieces: pieces(a.runnerUp.map(Int64.init)), dtype: .int64, shape: shape, to: "\(out)/runner_up.npy", communicator: comm)
        try SharedArrayFile.write(pieces: pieces(a.runnerUpScores), dtype: .float32, shape: shape, to: "\(out)/runner_up_scores.npy", communicator: comm)
    }

    /// assignments.csv for people: image (its path, or its index in an array), the first head's cluster
    /// and score, the runner-up. Each rank writes its rows into a part; rank 0 joins the parts in order.
    static func writeCSV(_ a: ClusterAssignment, shard: Range<Int>, images: any ImageSource, to out: String, communicator comm: Communicator) throws {
        let score = a.higherIsCloser ? "similarity" : "distance"
        var text = ""
        for (i, image) in shard.enumerated() {
            let location = images.location(image) == images.kind ? "\(image)" : images.location(image)
            let quoted = location.contains(",") || location.contains("\"") ? "\"" + location.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : location
            text += "\(quoted),\(a.clusters[i]),\(a.scores[i]),\(a.runnerUp[i]),\(a.runnerUpScores[i])\n"
        }
        let part = "\(out)/assignments.csv.part-\(comm.rank)"
        try Data(text.utf8).write(to: URL(fileURLWithPath: part))
        try comm.barrier()
        guard comm.isRoot else { try comm.barrier(); return }
        let csv = "\(out)/assignments.csv"
        FileManager.default.createFile(atPath: csv + ".partial", contents: Data("image,cluster,\(score),runner_up,runner_up_\(score)\n".utf8))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: csv + ".partial"))
        try handle.seekToEnd()
        for r in 0..<comm.size {
            let p = "\(out)/assignments.csv.part-\(r)"
            try handle.write(contentsOf: try Data(contentsOf: URL(fileURLWithPath: p)))
            try? FileManager.default.removeItem(atPath: p)
        }
        try handle.synchronize()
        try handle.close()
        _ = rename(csv + ".partial", csv)
        try comm.barrier()
    }
}
