import ArgumentParser
import Collective
import DeepCluster
import Datasets
import Foundation
import NN
import Tensor

/// `deepcluster gallery`: a picture of every cluster of a checkpoint. The ranks assign their shards
/// (as `assign`), rank 0 gathers the N cluster ids and scores, picks each cluster's images, decodes
/// only those, and writes one PNG sheet per cluster and HTML pages that show them largest first.
struct GalleryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gallery",
        abstract: "index.html and one PNG contact sheet per cluster of a checkpoint: the images nearest its centre and a few at random, with its size (and majority label and purity where labels exist).")
    @OptionGroup var source: CheckpointImageOptions
    @Option(help: "Labels of --data, for each cluster's majority label and purity (IDX or .npy; class folders, tar .cls and CIFAR carry their own).") var labels: String?
    @Option(help: "Output directory.") var out: String
    @Option(help: "Show only the N largest clusters (default: every non-empty one, 100 to a page).") var largest: Int?
    @Option(help: "Images per row: the nearest to the centre, and as many at random (default: 8).") var columns = 8
    @Option(help: "Side of each thumbnail in pixels (default: 64; 28-px images are enlarged).") var thumbnail = 64
    @Option(name: .customLong("per-page"), help: "Clusters per HTML page (default: 100).") var perPage = 100
    @Option(help: "Seed of the random members (default: 0).") var seed: UInt64 = 0
    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        guard columns >= 1 && columns <= 32, thumbnail >= 8 && thumbnail <= 512, perPage >= 1 else {
            throw ValidationError("--columns must be 1–32, --thumbnail 8–512 and --per-page at least 1")
        }
        if let l = largest, l < 1 { throw ValidationError("--largest must be at least 1, got \(l)") }
        runtime.run { comm in
            let (model, loaded) = try Checkpoint.openModel(source.checkpoint, communicator: comm) { if comm.isRoot { print($0) } }
            if let l = largest, l > model.numClasses {
                throw TrainingError.invalidConfiguration("--largest \(l) asks for more clusters than the checkpoint's \(model.numClasses)")
            }
            if model.embeddingLayer == nil { _ = try ClusterAssignment.clustering(of: loaded) }
            let (set, transforms, _) = try source.images(for: model, loaded, labels: labels, communicator: comm)
            let shard = Shard.range(count: set.count, rank: comm.rank, size: comm.size)
            let a = try ClusterAssignment.assign(model: model, loaded: loaded, images: set, range: shard, transforms: transforms)
            let clusters = try comm.gatherv(Array(a.clusters[..<a.rows]), root: 0)
            let scores = try comm.gatherv(Array(a.scores[..<a.rows]), root: 0)
            if comm.isRoot {
                try CollectiveWatchdog.patiently { try write(set, model: model, loaded: loaded, clusters: clusters, scores: scores, higherIsCloser: a.higherIsCloser) }
            }
            try CollectiveWatchdog.patiently { try comm.barrier() }
        }
    }

    /// Rank 0: the sheets and pages.
    func write(_ set: any ImageSource, model: Model, loaded: Checkpoint.Loaded, clusters: [Int32], scores: [Float], higherIsCloser: Bool) throws {
        let k = model.head.clusters[0]
        let gallery = ClusterGallery(assignments: clusters, scores: scores, higherIsCloser: higherIsCloser, clusters: k, labels: set.labels,
                                     nearest: columns, random: columns, largest: largest, seed: seed)
        try FileManager.default.createDirectory(atPath: "\(out)/sheets", withIntermediateDirectories: true)
        for c in gallery.clusters {
            let rows = try [c.nearest, c.random].filter { !$0.isEmpty }.map { row in
                try row.map { i in
                    try set.withImage(i) { p, h, w in
                        ImageCodec.Image(pixels: Array(UnsafeBufferPointer(start: p, count: set.channels * h * w)), channels: set.channels, height: h, width: w)
                    }
                }
            }
            let sheet = ContactSheet.compose(rows: rows, columns: columns, thumbnail: thumbnail)
            try Data(try ImageCodec.encode(sheet)).write(to: URL(fileURLWithPath: "\(out)/\(ClusterGallery.sheetName(c.id))"))
        }
        let recipeData = source.recipe(loaded).data
        let isFashionMNIST = recipeData == nil || recipeData == FashionMNIST.directory
        let names = (set as? ImageFolder)?.classes ?? (isFashionMNIST ? FashionMNIST.classNames : [])
        let method = model.embeddingLayer == nil ? "DeepCluster" : "DeepCluster-v2 (head 0)"
        let pages = try gallery.writePages(to: out, title: "\(method) clusters of \((loaded.path as NSString).lastPathComponent): \(set.count) images (\(set.kind))",
                                           perPage: perPage, labelNames: names, thumbnail: thumbnail, columns: columns)
        let shown = gallery.clusters
        print("gallery: \(shown.count) of \(k) clusters (\(shown.map(\.size).max() ?? 0) to \(shown.map(\.size).min() ?? 0) images), \(pages.count) page(s): \(out)/index.html")
        fflush(stdout)
    }
}
