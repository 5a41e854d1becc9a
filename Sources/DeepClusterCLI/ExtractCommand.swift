import ArgumentParser
import Collective
import DeepCluster
import Datasets
import Foundation
import NN
import Tensor

/// `deepcluster extract`: a checkpoint's clustering features of every image (features.npy, each
/// rank writing its shard's rows in place) and its epoch's pseudo-labels (assignments.npy, rank 0).
struct ExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "extract",
        abstract: "Write features.npy (N×D float32) and assignments.npy (N int64; heads×N for DeepCluster-v2) of a checkpoint.")
    @OptionGroup var source: CheckpointImageOptions
    @Option(help: "Output directory.") var out: String
    @Option(help: "Features to write: conv (the convolutional trunk's last pooled maps, flattened), trunk (the classifier's last Linear, before its ReLU) or embedding (DeepCluster-v2's L2-normalised projection) (default: trunk).") var feature = "trunk"
    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        guard let representation = Representation(rawValue: feature) else { throw ValidationError("--feature must be one of \(Representation.names), got '\(feature)'") }
        runtime.run { comm in
            let (model, loaded) = try Checkpoint.openModel(source.checkpoint, communicator: comm) { if comm.isRoot { print($0) } }
            guard let (at, width) = model.layer(for: representation) else {
                throw TrainingError.invalidConfiguration("--feature embedding needs a deepcluster-v2 checkpoint; \(loaded.path) has a top layer, not a projection head")
            }
            let (set, transforms, skipped) = try source.images(for: model, loaded, communicator: comm)
            let shard = Shard.range(count: set.count, rank: comm.rank, size: comm.size)
            let f = try FeatureExtractor.extract(model, images: set, range: shard, batchSize: 256, transforms: transforms,
                                                 through: at, dimension: width)
            // Each rank writes its own rows into the one features.npy; nothing is gathered.
            if comm.isRoot { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
            try SharedArrayFile.write(rows: f, firstRow: shard.lowerBound, totalRows: set.count, columns: width,
                                      to: "\(out)/features.npy", communicator: comm)
            guard comm.isRoot else { return }
            if skipped > 0, let kept = set as? ImageSubset {
                // Row r of features.npy is image kept[r] of --data: the unreadable ones are not in it.
                try AtomicFile.write(NPY.encode(kept.indices.map { Int64($0) }, dtype: .int64, shape: [kept.count]), to: "\(out)/indices.npy")
                print("extract: \(skipped) unreadable image(s) left out; indices.npy gives each row's image index")
            }
            let heads = model.head.clusters.count
            if loaded.assignments.count == set.count * heads {
                // DeepCluster-v2: one row per head.
                let shape = heads == 1 ? [set.count] : [heads, set.count]
                try AtomicFile.write(NPY.encode(loaded.assignments.map { Int64($0) }, dtype: .int64, shape: shape), to: "\(out)/assignments.npy")
            } else {
                print("extract: the checkpoint's assignments cover \(loaded.assignments.count) images, not \(set.count); assignments.npy not written")
            }
            print("extract: wrote \(out)/features.npy (\(set.count)×\(width), \(feature)) from \(loaded.path)")
        }
    }
}
