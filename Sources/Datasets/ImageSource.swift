import CZlib
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
    /// Why image `index` cannot be read, or nil: its header and end (`EncodedImageCheck`), and with
    /// `decode` the whole image. Sources held in memory were checked when loaded and answer nil.
    func check(_ index: Int, decode: Bool) -> String?
    /// What was found wrong while listing (a truncated tar shard), each with where and why; these
    /// are not among the images.
    var listingProblems: [(location: String, reason: String)] { get }
    /// A digest of what the source holds, equal on two ranks that see the same data: for files their
    /// sorted names and sizes, for arrays in memory their bytes.
    func fingerprint() -> UInt64
    /// The same images handed out with `channels` channels (nil: as now) and, for files, JPEGs decoded
    /// down to `minimumDecodeSide` — without listing them again. Sources in memory return themselves.
    func reading(channels: Int?, minimumDecodeSide: Int) -> any ImageSource
}

extension ImageSource {
    public func location(_ index: Int) -> String { kind }
    public func check(_ index: Int, decode: Bool) -> String? { nil }
    public var listingProblems: [(location: String, reason: String)] { [] }
    public func reading(channels: Int?, minimumDecodeSide: Int) -> any ImageSource { self }
}

/// CRC-32 and Adler-32 (zlib) of a byte stream, side by side in 64 bits: the sources' fingerprints.
public struct Fingerprint {
    var crc = UInt(crc32(0, nil, 0)), adler = UInt(adler32(0, nil, 0))
    public init() {}
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var p = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), left = bytes.count
        while left > 0 {
            let n = min(left, 1 << 30)
            crc = crc32(crc, p, uInt(n)); adler = adler32(adler, p, uInt(n))
            p = p! + n; left -= n
        }
    }
    public mutating func add(_ text: String) { var t = text; t.withUTF8 { add(UnsafeRawBufferPointer($0)) } }
    public mutating func add<T>(_ values: [T]) { values.withUnsafeBytes { add($0) } }
    public var value: UInt64 { UInt64(crc & 0xffff_ffff) << 32 | UInt64(adler & 0xffff_ffff) }
}

extension ImageSet: ImageSource {
    public var uniformSize: (height: Int, width: Int)? { (height, width) }

    public func withImage<R>(_ index: Int, _ body: (UnsafePointer<UInt8>, Int, Int) throws -> R) throws -> R {
        try pixels.withUnsafeBufferPointer { try body($0.baseAddress! + index * imageSize, height, width) }
    }

    public func limited(to n: Int) -> any ImageSource { prefix(n) }

    public func fingerprint() -> UInt64 {
        var f = Fingerprint()
        f.add([Int64(count), Int64(channels), Int64(height), Int64(width)])
        f.add(pixels)
        if let labels { f.add(labels) }
        return f.value
    }
}
