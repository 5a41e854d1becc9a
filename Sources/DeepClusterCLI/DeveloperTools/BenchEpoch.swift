import ArgumentParser
import DeepCluster
import NN
import Tensor

/// One full DeepCluster epoch, wall time split into extraction, PCA + k-means and training.
struct BenchEpoch: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "epoch", abstract: "One DeepCluster epoch on Fashion-MNIST, split by stage.")
    @OptionGroup var common: CommonBenchOptions
    @Option(help: "Use the first N images (default: all 60,000).") var limit: Int?
    @Option(help: "Clusters (default: 100).") var clusters = 100

    func run() throws {
        common.runtime.run { comm in
            var c = TrainingConfig()
            c.recipe.epochs = 1
            c.recipe.limit = limit
            c.recipe.clusters = clusters
            c.options.quiet = true
            let run = try DeepClusterRun(config: c, communicator: comm)
            let rec = try run.runEpoch(0)
            var r = BenchReport()
            r.add("bench", "epoch"); r.add("images", run.images.count); r.add("ranks", comm.size); r.add("threads", BLAS.threads)
            r.add("seconds", [("total", rec.seconds.total), ("extract", rec.seconds.extract), ("pca", rec.seconds.pca),
                              ("kmeans", rec.seconds.kmeans), ("train", rec.seconds.train)] as [(String, Any)])
            r.add("train_images_per_s", rec.images_per_s); r.add("extract_images_per_s", Double(run.images.count) / rec.seconds.extract)
            r.add("nmi_labels", rec.nmi_labels ?? .nan); r.add("openblas_core", BLAS.coreName)
            r.add("kernels", KernelBackend.current.rawValue); r.add("precision", KernelBackend.precision.rawValue)
            r.add("peak_rss_bytes", try largestPeakRSS(comm))
            r.emit(comm, json: common.json)
        }
    }
}
