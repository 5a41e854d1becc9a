import Foundation
import NN

/// `--preset recommended`: DeepCluster-v2 with the settings that worked on Fashion-MNIST
/// (`fmnist-v2`), scaled to the data by rules rather than tuned per dataset, so that one command
/// works from a thousand images to a million. Flags given on the command line override any value.
/// `eval` scores such a checkpoint by k-means on a UMAP layout of its convolutional features (N2D).
///
/// The rules, from the dataset's size N, image size and channels:
/// - architecture: `fmnist-alexnet` for grey images, `cifar-alexnet` for colour images up to 48 px,
///   `alexnet` (224 px) for larger colour images;
/// - prototypes per head (over-clustering, three heads): N / 200 — 300 for 60,000 images, 100 for
///   20,000 — at least 30, at most 3,000 (DeepCluster-v2's ImageNet setting), never more than N / 10;
///   finer prototypes keep more of each image's neighbourhood, which the evaluation's UMAP layout reads;
/// - batch: 256, or N / 16 rounded down to a power of two (at least 32) so that small sets still
///   take 16 steps per epoch;
/// - learning rate: 0.15 at batch 256, scaled linearly with the batch (Goyal et al., 2017);
/// - epochs: 32 at 60,000 images (about 50 minutes on 2 cores), growing as √(60,000 / N) for smaller
///   sets (so a small set still sees enough steps), at most 200, at least 32;
/// - augmentation: random resized crops from 20% of the image, flips, brightness and contrast jitter
///   ±0.4; colour images also saturation jitter ±0.4 and 20% grey views (SwAV's colour distortion).
///
/// `--preset recommended-v1` (or `recommended` with `--method deepcluster`) is the paper's own method,
/// DeepCluster, with `--preset fmnist`'s recipe (raw input, the same crops and jitter, cosine lr after
/// a 1-epoch warm-up) and the same rules for the architecture and the
/// batch, but its own number of clusters, batch, learning rate and length:
/// - clusters: as v2's prototypes, but at least 25p/16 for the architecture's PCA dimension p (100 for
///   fmnist-alexnet's 64, 200 for cifar-alexnet's 128), never more than N / 10. DeepCluster clusters the
///   PCA-whitened features, where each of the p directions weighs the same, and its classifier over k
///   clusters separates them along at most k − 1 directions of the features it reads. With v2's 30
///   (fewer than p) on sets below 20,000 images, k-means on the whitened features came out below the
///   random network's on 1,000 – 5,000 Fashion-MNIST images, and above it with k = 100 (README,
///   "DeepCluster at small scale");
/// - batch: 256, or halved (to 32 at least) until an epoch takes 30 steps: the top layer is drawn anew
///   each epoch, and an epoch must be long enough to fit it. At 5,000 images and batch 256 (19 steps)
///   the loss stayed near log k and every k-means of the features fell below the random network's; at
///   batch 128 (39 steps) they rose above it. 1,000, 2,000 and 20,000 images keep v2's batch (32, 64, 256);
/// - learning rate: 0.05 (the reference's) at every batch. Scaled down with the batch (0.00625 at
///   1,000 images, batch 32) the network never left the loss of chance in 134 epochs: an epoch of 31
///   small steps cannot fit the top layer drawn anew for it. At 0.05 the 1,000- and 2,000-image subsets
///   learn (README, "DeepCluster at small scale"); from 4,096 images on, the batch is 256 anyway;
/// - epochs: 30 at 20,000 images, as √(20,000 / N) for other sizes, within 10…200. Ten epochs left the
///   k = 10 clustering of its features at the random network's on 20,000 Fashion-MNIST images; thirty
///   (the steps of `--preset fmnist`'s ten epochs on 60,000) put it above (README, "DeepCluster at small scale").
public enum RecommendedPreset {
    /// What the rules read of the data.
    public struct DataShape: Sendable {
        public var count: Int
        public var channels: Int
        /// Height and width when every image has the same size (nil: an image folder, sizes vary).
        public var size: (height: Int, width: Int)?
        public init(count: Int, channels: Int, size: (height: Int, width: Int)?) {
            self.count = count; self.channels = channels; self.size = size
        }
    }

    /// The fixed part (before the data is known): `fmnist-v2` without its epoch count.
    public static func applyFixed(to c: inout Recipe) throws {
        try TrainingPreset.apply("fmnist-v2", to: &c)
    }

    /// `recommended-v1`'s fixed part: `fmnist` (DeepCluster) without its epoch count.
    public static func applyFixedV1(to c: inout Recipe) throws {
        try TrainingPreset.apply("reference", to: &c)
        try TrainingPreset.apply("fmnist", to: &c)
    }

    /// Sets the data-dependent fields of `c` for `shape`.
    public static func adapt(_ c: inout Recipe, to shape: DataShape) {
        let n = max(shape.count, 1)
        let side = shape.size.map { max($0.height, $0.width) }
        if shape.channels == 1 { c.arch = "fmnist-alexnet" }
        else { c.arch = (side ?? 224) <= 48 ? "cifar-alexnet" : "alexnet" }
        // c.arch was just set to one of Architecture.all's names, so `named` cannot fail here.
        let fewest = c.isV2 ? 30 : (25 * c.pcaDim(try! Architecture.named(c.arch)) + 15) / 16
        c.clusters = max(2, min(max(fewest, n / 200), 3000, n / 10))
        var batch = 256
        let fewestSteps = c.isV2 ? 16 : 30
        while batch > 32 && batch * fewestSteps > n { batch /= 2 }
        c.batchSize = batch
        if c.isV2 {
            c.learningRate = 0.15 * Float(batch) / 256
            c.epochs = min(200, max(32, Int((32 * (60_000 / Double(n)).squareRoot()).rounded())))
        } else {
            c.learningRate = 0.05
            c.epochs = min(200, max(10, Int((30 * (20_000 / Double(n)).squareRoot()).rounded())))
        }
        if shape.channels == 3 { c.saturation = 0.4; c.grayscale = 0.2 } else { c.saturation = 0; c.grayscale = 0 }
    }

    /// One line saying what a recipe holds of what the rules choose (after the flags given).
    public static func describe(_ c: Recipe, for shape: DataShape) -> String {
        let n = shape.count
        let sizeText = shape.size.map { "\($0.height)×\($0.width)" } ?? "of varying size"
        let clusters = c.isV2 ? "\(c.heads) heads × \(c.clusters ?? 0) prototypes" : "DeepCluster, k = \(c.clusters ?? 0)"
        return "preset recommended\(c.isV2 ? "" : "-v1") for \(n) images \(sizeText) × \(shape.channels) channel(s): --arch \(c.arch), "
            + "\(clusters), batch \(c.batchSize), lr \(c.learningRate), \(c.epochs) epochs, "
            + "crops from \(c.cropScale), jitter ±\(c.brightness)\(c.saturation > 0 ? ", saturation ±\(c.saturation), \(Int(c.grayscale * 100))% grey" : "")"
    }
}
