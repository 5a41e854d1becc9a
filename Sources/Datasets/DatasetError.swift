/// What can be wrong with a user's data, each naming the file (and index) and what was expected.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case unreadable(path: String, reason: String)
    case corruptGzip(path: String, reason: String)
    case badMagic(path: String, expected: String, got: String)
    case truncated(path: String, expectedBytes: Int, gotBytes: Int)
    case countMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
    case unsupported(path: String, reason: String)
    case unknownFormat(path: String)
    case undecodable(path: String, reason: String)
    case sizeMismatch(path: String, index: Int, expected: String, got: String)
    case emptyFolder(path: String)

    public var description: String {
        switch self {
        case let .missing(p): return "\(p): no such file or directory"
        case let .unreadable(p, r): return "\(p): cannot read: \(r)"
        case let .corruptGzip(p, r): return "\(p): corrupt gzip stream: \(r)"
        case let .badMagic(p, e, g): return "\(p): wrong magic number: expected \(e), got \(g)"
        case let .truncated(p, e, g): return "\(p): truncated: expected \(e) bytes of data, found \(g)"
        case let .countMismatch(i, ic, l, lc): return "\(l): \(lc) labels for \(ic) images in \(i)"
        case let .unsupported(p, r): return "\(p): \(r)"
        case let .unknownFormat(p): return "\(p): cannot tell the format (expected IDX, CIFAR binary, .npy or a folder of PNG/JPEG images); pass --format"
        case let .undecodable(p, r): return "\(p): cannot decode the image: \(r)"
        case let .sizeMismatch(p, i, e, g): return "\(p) (image \(i)): expected \(e), got \(g); pass --resize to resize images"
        case let .emptyFolder(p): return "\(p): no .png, .jpg or .jpeg images in this folder or its class subfolders"
        }
    }
}
