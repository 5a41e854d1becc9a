import Foundation
/// Images held in memory as bytes, N×C×H×W, with optional labels.
public struct ImageSet: Sendable {
    public let pixels: [UInt8]
    public let count: Int
    public let channels: Int
    public let height: Int
    public let width: Int
    public let labels: [Int32]?
    public let kind: String

    public init(pixels: [UInt8], count: Int, channels: Int, height: Int, width: Int, labels: [Int32]?, kind: String = "images in memory") {
        self.pixels = pixels; self.count = count; self.channels = channels
        self.height = height; self.width = width; self.labels = labels; self.kind = kind
    }

    public var imageSize: Int { channels * height * width }

    /// The first `n` images (a quick run's `--limit`).
    public func prefix(_ n: Int) -> ImageSet {
        let m = min(n, count)
        return ImageSet(pixels: Array(pixels[0..<(m * imageSize)]), count: m, channels: channels, height: height,
                        width: width, labels: labels.map { Array($0[0..<m]) }, kind: kind)
    }
}

/// Where the default dataset lives (Debian's dataset-fashion-mnist).
public enum FashionMNIST {
    /// Debian's folder, or `DEEPCLUSTER_FASHION_MNIST` where the files were carried elsewhere (a
    /// machine without the package: Launch/device-scaling.sh).
    public static var directory: String {
        ProcessInfo.processInfo.environment["DEEPCLUSTER_FASHION_MNIST"] ?? "/usr/share/datasets/fashion-mnist"
    }
    public static let mean: Float = 0.2860
    /// The ten classes' names, label order (Xiao et al., 2017).
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    public static let std: Float = 0.3530

    public static func paths(directory: String = directory, train: Bool = true) -> (images: String, labels: String) {
        let p = train ? "train" : "t10k"
        return ("\(directory)/\(p)-images-idx3-ubyte.gz", "\(directory)/\(p)-labels-idx1-ubyte.gz")
    }
}
