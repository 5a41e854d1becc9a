import ArgumentParser
import DeepCluster
import Datasets
import Foundation
import Tensor

/// `deepcluster train`: the DeepCluster loop on every rank. Options left out take their value from
/// --config (when given) and otherwise the defaults shown.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train",
        abstract: "Train a CNN with DeepCluster on Fashion-MNIST (default) or your data.")
    static let d = Recipe(), o = RunOptions()

    @Option(help: "Images: an IDX file (plain or .gz) or a folder of them (train-/t10k-images-idx3-ubyte, as /usr/share/datasets/fashion-mnist), CIFAR-10/100 binary batches (a .bin or the extracted folder), a folder of PNG/JPEG images (one subfolder per class, or flat), or a uint8/float32 .npy (default: Fashion-MNIST train from /usr/share/datasets/fashion-mnist).")
    var data: String?
    @Option(help: "Data format: \(DatasetLoader.formats.joined(separator: ", ")) (default: \(d.format)).") var format: String?
    @Option(help: "Labels for NMI/ARI (IDX or .npy; IDX labels are found beside the images by name; CIFAR and class folders carry their own).") var labels: String?
    @Option(help: "Resize the shorter side to N before the centre crop of the clustering pass (default: none when the images are at the architecture's input size, else input × 8/7; 0: never resize).") var resize: Int?
    @Option(help: "Training augmentation: auto, pad-crop (random crop of the 2-pixel zero-padded image) or resized-crop (RandomResizedCrop); both add a horizontal flip (default: auto — pad-crop for images at the input size, resized-crop otherwise).") var augmentation: String?
    @Option(name: .customLong("crop-scale"), help: "Smallest area fraction of the random resized crop (default: \(d.cropScale)).") var cropScale: Double?
    @Option(help: "Threads per rank that decode and augment the next batches while the current one trains; 0 does it inside the step (default: \(o.workers)).") var workers: Int?
    @Option(help: "Architecture: fmnist-alexnet, cifar-alexnet, alexnet, vgg16 (default: \(d.arch)).") var arch: String?
    @Option(help: "deepcluster (the 2018 recipe) or deepcluster-v2 (projection head, spherical k-means on a memory bank of the last epoch's embeddings, prototypes with a temperature, several heads, multi-crop); deepcluster-v2 also sets its own defaults: --heads 3, --kmeans-iters 10, --weight-decay 1e-6, --augmentation resized-crop, --dropout 0 (default: \(d.method)).") var method: String?
    @Option(help: "Probability of the classifier's dropout layers (default: the architecture's, 0.5).") var dropout: Float?
    @Option(help: "DeepCluster-v2: heads of --clusters prototypes each, clustered separately (default: 1; 3 with deepcluster-v2).") var heads: Int?
    @Option(help: "DeepCluster-v2: softmax temperature of the prototype scores (default: \(d.temperature)).") var temperature: Float?
    @Option(name: .customLong("hidden-dim"), help: "DeepCluster-v2: hidden width of the projection head (default: the trunk's feature width).") var hiddenDim: Int?
    @Option(name: .customLong("embedding-dim"), help: "DeepCluster-v2: width of the L2-normalised embedding (default: \(d.embeddingDimension)).") var embeddingDim: Int?
    @Option(help: "DeepCluster-v2: views of each image, COUNTxMIN-MAX groups of random resized crops, e.g. 2x0.14-1,4x0.05-0.14 (default: 2x<crop-scale>-1).") var crops: String?
    @Option(help: "What the first convolution sees: sobel (fixed Sobel gradients of the grey image, as the reference) or raw (the image) (default: \(d.input)).") var input: String?
    @Option(help: "Number of k-means clusters (default: from the architecture, 100 for fmnist-alexnet).") var clusters: Int?
    @Option(name: .customLong("pca-dim"), help: "PCA dimensions before k-means (default: from the architecture, 64 for fmnist-alexnet).") var pcaDim: Int?
    @Option(name: .customLong("kmeans-iters"), help: "k-means iterations (default: \(d.kmeansIterations)).") var kmeansIters: Int?
    @Option(name: .customLong("cluster-feature"), help: "Cluster the classifier's last Linear output before its ReLU (pre-relu, as the reference) or after it (post-relu, as the PyTorch peer) (default: \(d.clusterFeature)).") var clusterFeature: String?
    @Option(name: .customLong("top-layer"), help: "DeepCluster: each epoch's top layer starts random (drawn anew, as the reference) , from centroids (the nearest cluster mean of the epoch's new clusters, as a Gaussian classifier of the features it reads, then trained) or matched (the previous epoch's trained layer, its rows given to the new clusters by a one-to-one matching of the old and new clusters that maximises their shared images) (default: \(d.topLayer)).") var topLayer: String?
    @Option(name: .customLong("pca-epsilon"), help: "Added to PCA eigenvalues before whitening, as faiss's PCAMatrix.epsilon; the PyTorch peer uses 1e-5 (default: \(d.pcaEpsilon), full whitening with eigenvalues floored at 1e-5 × the largest).") var pcaEpsilon: Double?
    @Option(help: "Epochs (default: \(d.epochs)).") var epochs: Int?
    @Option(name: .customLong("batch-size"), help: "Global batch, split over the ranks (default: \(d.batchSize)).") var batchSize: Int?
    @Option(help: "Learning rate (default: \(d.learningRate)).") var lr: Float?
    @Option(name: .customLong("lr-schedule"), help: "constant, or cosine: linear warm-up from 0 over --warmup-epochs, then cosine decay to --final-lr (default: \(d.lrSchedule)).") var lrSchedule: String?
    @Option(name: .customLong("warmup-epochs"), help: "Warm-up of the cosine schedule, in epochs (default: \(d.warmupEpochs)).") var warmupEpochs: Double?
    @Option(name: .customLong("final-lr"), help: "Learning rate at the end of the cosine schedule (default: \(d.finalLearningRate)).") var finalLR: Float?
    @Option(help: "Training colour jitter: brightness factor drawn from [1 − x, 1 + x] (default: \(d.brightness), off).") var brightness: Float?
    @Option(help: "Training colour jitter: contrast factor drawn from [1 − x, 1 + x] (default: \(d.contrast), off).") var contrast: Float?
    @Option(help: "Training colour jitter of colour images: saturation factor drawn from [1 − x, 1 + x] (default: \(d.saturation), off).") var saturation: Float?
    @Option(help: "Probability of turning a colour training view grey, as RandomGrayscale (default: \(d.grayscale), off).") var grayscale: Double?
    @Option(help: "Probability of a Gaussian blur (σ uniform in 0.1–2) in the training pass (default: \(d.blur), off).") var blur: Double?
    @Option(help: "SGD momentum (default: \(d.momentum)).") var momentum: Float?
    @Option(name: .customLong("weight-decay"), help: "Weight decay (default: \(d.weightDecay)).") var weightDecay: Float?
    @Option(help: "Seed of every generator (default: \(d.seed)).") var seed: UInt64?
    @OptionGroup var runtime: RuntimeOptions
    @Option(help: "Use only the first N images (quick runs).") var limit: Int?
    @Option(name: .customLong("data-check"), help: "Before training, check every image: headers (its header and end marker, a few KB per file), decode (decode it whole) or none; unreadable images are all named at once (default: \(o.dataCheck.rawValue)).") var dataCheck: String?
    @Flag(name: .customLong("skip-unreadable"), help: "Train without the images the check finds unreadable (each named in the log, their count in the metrics and checkpoints) instead of refusing to start.") var skipUnreadable = false
    @Flag(name: .customLong("jpeg-draft"), help: "Decode large JPEGs at 1/2, 1/4 or 1/8 size (libjpeg's DCT scaling, as PIL's draft) while the shorter side stays at least the clustering pass's resize.") var jpegDraft = false
    @Option(name: .customLong("bucket-bytes"), help: "Gradient allreduce bucket size in bytes (default: \(o.bucketBytes)).") var bucketBytes: Int?
    @Option(name: .customLong("checkpoint-dir"), help: "Write a checkpoint here after every epoch.") var checkpointDir: String?
    @Option(name: .customLong("keep-checkpoints"), help: "Complete checkpoints to keep (default: \(o.keepCheckpoints)).") var keepCheckpoints: Int?
    @Option(name: .customLong("checkpoint-every"), help: "Also checkpoint every N training steps (default: 0, at epoch ends only).") var checkpointEvery: Int?
    @Option(name: .customLong("log-dir"), help: "Write each rank's log to DIR/rank-N.log.") var logDir: String?
    @Flag(help: "Continue from the newest complete checkpoint in --checkpoint-dir; flags that change its recipe (seed, learning rate, data, ...) are refused.") var resume = false
    @Flag(name: .customLong("resume-override"), help: "With --resume: continue even though the flags change the saved recipe (the changes are logged).") var resumeOverride = false
    @Option(help: "Append one JSON object per epoch to this file (rank 0); the curves go to the same name with .svg.") var metrics: String?
    @Option(name: .customLong("knn-every"), help: "Every N epochs (and after the last), the top-1 of a weighted k-NN classifier (k = 200, T = 0.07, cosine) on the features, the training images as the bank and the test split (or a seeded 10% held out) as queries: knn_top1 in the metrics; labels are used for this report only (default: 0, never).") var knnEvery: Int?
    @Option(help: "Write TensorBoard event files (loss, NMI, k-NN top-1, learning rate, seconds per phase, images/s per epoch) to this directory (rank 0).") var tensorboard: String?
    @Option(help: "A bundle of settings that flags given override: \(TrainingPreset.names.joined(separator: ", ")) (see README).") var preset: String?
    @Option(help: "Load the configuration from a config.json written beside checkpoints; flags given override it.") var config: String?
    @Option(name: .customLong("status-file"), help: "When the run ends (finished, or stopped by a signal), write one JSON object here (rank 0): finished, stopped (where), epochs, newest_checkpoint. Batch scripts requeue on it.") var statusFile: String?
    @Flag(help: "Print nothing but errors (no progress line, no epoch lines).") var quiet = false
    @Flag(help: "Draw the progress line under mpirun too (only when mpirun's output is a terminal).") var progress = false

    /// The run's configuration, and what `--preset recommended` chose for the data (nil for other presets).
    func makeConfig() throws -> (config: TrainingConfig, presetChoice: String?, listed: (any ImageSource)?) {
        var presetChoice: String?
        var listed: (any ImageSource)?
        var c = TrainingConfig()
        if let path = config {
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("--config \(path): no such file") }
            do { c = try JSONDecoder().decode(TrainingConfig.self, from: data) } catch let e as TrainingError {
                throw ValidationError("--config \(path): \(ConfigurationFlags.describe(e))")
            } catch {
                throw ValidationError("--config \(path): not a configuration written by deepcluster (\(ConfigurationFlags.describeDecoding(error)))")
            }
        }
        do {
            let base = c
            if let p = preset { try TrainingPreset.apply(p, to: &c.recipe) }
            // The method's own defaults come first; the other flags override them.
            if method == Recipe.Method.deepclusterV2.rawValue { TrainingPreset.applyV2Defaults(to: &c.recipe) }
            c = try ConfigurationFlags.apply(self, to: c)
            if preset == "recommended" {
                // The data-dependent values need the data (as the flags name it); the flags still win.
                let images = try DatasetLoader.load(data: c.recipe.data, labels: c.recipe.labels, format: c.recipe.format, train: true)
                listed = images   // the run reuses this listing instead of listing the folder again
                let count = min(images.count, c.recipe.limit ?? images.count)
                var adapted = base
                try TrainingPreset.apply("recommended", to: &adapted.recipe)
                let shape = RecommendedPreset.DataShape(count: count, channels: images.channels, size: images.uniformSize)
                RecommendedPreset.adapt(&adapted.recipe, to: shape)
                c = try ConfigurationFlags.apply(self, to: adapted)
                presetChoice = RecommendedPreset.describe(c.recipe, for: shape)
            }
            c.options.resume = resume
            c.options.resumeOverride = resumeOverride
            c.options.quiet = quiet
            c.options.progress = progress
            try c.validate()
        } catch {
            throw ValidationError(ConfigurationFlags.describe(error))
        }
        if resume && c.options.checkpointDirectory == nil { throw ValidationError("--resume needs --checkpoint-dir") }
        return (c, presetChoice, listed)
    }

    func run() throws {
        let (c, choice, listed) = try makeConfig()
        runtime.run(stoppable: true) { comm in
            let run: DeepClusterRun
            do {
                run = try DeepClusterRun(config: c, communicator: comm, fieldName: ConfigurationFlags.flag(for:), listed: listed)
            } catch let stop as StopRequested {
                // Signalled while the ranks read the checkpoint to resume: nothing has changed.
                if comm.isRoot {
                    print("stop requested: stopped \(stop.point) while resuming; nothing changed"); fflush(stdout)
                    if let path = statusFile {
                        try RunStatus(finished: false, stopped: "\(stop.point) while resuming", epochs: c.recipe.epochs,
                                      checkpointDirectory: c.options.checkpointDirectory).write(to: path)
                    }
                }
                return
            }
            if comm.isRoot && !c.options.quiet {
                if let choice { print(choice) }
                print("deepcluster train: \(run.images.count) images, --arch \(c.recipe.arch), k = \(run.model.numClasses), "
                      + "\(comm.size) rank(s) × \(BLAS.threads) thread(s), OpenBLAS \(BLAS.coreName), "
                      + "epochs \(run.startEpoch)..<\(c.recipe.epochs), seed \(c.recipe.seed)")
                fflush(stdout)
            }
            run.log = { line in print(line); fflush(stdout) }
            let finished = try run.run()
            if comm.isRoot, let path = statusFile {
                try RunStatus(finished: finished, stopped: run.stoppedAtBoundary ?? (finished ? nil : "inside or at the end of an epoch"),
                              epochs: c.recipe.epochs, checkpointDirectory: c.options.checkpointDirectory).write(to: path)
            }
        }
    }
}
