/// Where a run's images come from: held in memory (`ImageSet`: IDX, CIFAR, .npy) or decoded from
/// disk on demand (`ImageFolder`). A rank asks only for the images it needs — its shard when
/// extracting, its slice of each batch when training — so nothing requires the whole dataset in memory.
public protocol ImageSource: Sendable {
    var count: Int { get }
    /// Channels of every image handed out (1 grey, 3 RGB).
    var channels: Int { get }
    var labels: [Int32]? { get }
    /// The size every image has, or nil when sizes differ (image folders).
    var uniformSize: (height: Int, width: Int)? { get }
    /// What the images are, for logs: "IDX", "CIFAR-10", "image folder (10 classes)"...
    var kind: String { get }
    /// Calls `body` with image `index` as C×H×W bytes and its height and width.
    func withImage<R>(_ index: Int, _ body: (UnsafePointer<UInt8>, _ height: Int, _ width: Int) throws -> R) throws -> R
    /// The first `n` images (a quick run's `--limit`).
    func limited(to n: Int) -> any ImageSource
    /// Where image `index` comes from, for error messages (a file path, or the dataset's kind).
    func location(_ index: Int) -> String
}

extension ImageSource {
    public func location(_ index: Int) -> String { kind }
}

extension ImageSet: ImageSource {
    public var uniformSize: (height: Int, width: Int)? { (height, width) }

    public func withImage<R>(_ index: Int, _ body: (UnsafePointer<UInt8>, Int, Int) throws -> R) throws -> R {
        try pixels.withUnsafeBufferPointer { try body($0.baseAddress! + index * imageSize, height, width) }
    }

    public func limited(to n: Int) -> any ImageSource { prefix(n) }
}
