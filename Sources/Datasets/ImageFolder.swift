import Foundation

/// A folder of PNG and JPEG images, read from disk image by image (never all at once).
///
/// Layout as torchvision's ImageFolder: one subfolder per class (classes are the subfolder names in
/// sorted order, label = position; files inside are found recursively), or — when there are no class
/// subfolders — a flat folder of images without labels. Files are sorted by path, so every rank sees
/// the same order. The folder is listed once (one stat per entry, which also gives each file's size
/// for the ranks' fingerprint). Every image is handed out with `channels` channels (default: those of
/// the first readable image's header): grey images are repeated into RGB, RGB images become grey by luma.
public struct ImageFolder: ImageSource {
    public let root: String
    public let files: [String]
    /// Each file's size in bytes when listed.
    public let sizes: [Int]
    public let labels: [Int32]?
    public let classes: [String]
    public let channels: Int
    /// JPEGs decode at 1/2, 1/4 or 1/8 of their size (DCT scaling) while the shorter side stays at
    /// least this long; 0 decodes at full size.
    public var minimumDecodeSide = 0

    public static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    public init(_ root: String, channels: Int? = nil) throws {
        guard FileRange.size(root) != nil, Self.isDirectory(root) else { throw DatasetError.missing(path: root) }
        self.root = root
        let entries = try Self.list(root)
        var files: [(String, Int)] = [], labels: [Int32] = [], classes: [String] = []
        for entry in entries where entry.isDirectory {
            let found = try Self.images(under: entry.path)
            if found.isEmpty { continue }
            labels += [Int32](repeating: Int32(classes.count), count: found.count)
            classes.append((entry.path as NSString).lastPathComponent)
            files += found
        }
        if classes.isEmpty {
            files = entries.filter { !$0.isDirectory && Self.isImage($0.path) }.map { ($0.path, $0.size) }
        }
        guard !files.isEmpty else { throw DatasetError.emptyFolder(path: root) }
        self.files = files.map(\.0)
        self.sizes = files.map(\.1)
        self.classes = classes
        self.labels = classes.isEmpty ? nil : labels
        let (paths, sizes) = (self.files, self.sizes)
        self.channels = channels ?? EncodedImageCheck.firstChannels(count: paths.count, size: { sizes[$0] }, path: { paths[$0] }) {
            try FileRange.read(paths[$0], offset: $1, count: $2)
        }
    }

    private init(root: String, files: [String], sizes: [Int], labels: [Int32]?, classes: [String], channels: Int, minimumDecodeSide: Int) {
        self.root = root; self.files = files; self.sizes = sizes; self.labels = labels; self.classes = classes
        self.channels = channels; self.minimumDecodeSide = minimumDecodeSide
    }

    public var count: Int { files.count }
    public var uniformSize: (height: Int, width: Int)? { nil }
    public var kind: String { classes.isEmpty ? "image folder (no labels)" : "image folder (\(classes.count) classes)" }

    public func limited(to n: Int) -> any ImageSource {
        let m = min(n, count)
        return ImageFolder(root: root, files: Array(files[0..<m]), sizes: Array(sizes[0..<m]), labels: labels.map { Array($0[0..<m]) },
                           classes: classes, channels: channels, minimumDecodeSide: minimumDecodeSide)
    }

    public func location(_ index: Int) -> String { files[index] }

    public func reading(channels: Int?, minimumDecodeSide: Int) -> any ImageSource {
        ImageFolder(root: root, files: files, sizes: sizes, labels: labels, classes: classes, channels: channels ?? self.channels,
                    minimumDecodeSide: minimumDecodeSide)
    }

    public func image(_ index: Int) throws -> ImageCodec.Image {
        ImageCodec.converted(try Self.decode(files[index], index: index, minimumSide: minimumDecodeSide), to: channels)
    }

    public func withImage<R>(_ index: Int, _ body: (UnsafePointer<UInt8>, Int, Int) throws -> R) throws -> R {
        let im = try image(index)
        return try im.pixels.withUnsafeBufferPointer { try body($0.baseAddress!, im.height, im.width) }
    }

    public func check(_ index: Int, decode: Bool) -> String? {
        let path = files[index]
        guard let size = FileRange.size(path) else { return "vanished since the folder was listed" }
        return EncodedImageCheck.check(size: size, path: path, decode: decode) { try FileRange.read(path, offset: $0, count: $1) }
    }

    /// The sorted listing's names (relative to the root) and sizes.
    public func fingerprint() -> UInt64 {
        var f = Fingerprint()
        let prefix = root.hasSuffix("/") ? root.count : root.count + 1
        for (path, size) in zip(files, sizes) { f.add("\(path.dropFirst(prefix))\u{0}\(size)\n") }
        f.add(classes.joined(separator: "\n"))
        return f.value
    }

    static func decode(_ path: String, index: Int, minimumSide: Int = 0) throws -> ImageCodec.Image {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError.unreadable(path: path, reason: "image \(index) vanished or is unreadable")
        }
        do {
            return try data.withUnsafeBytes { try ImageCodec.decode($0.bindMemory(to: UInt8.self), path: path, minimumSide: minimumSide) }
        } catch DatasetError.undecodable(_, let reason) {
            throw DatasetError.undecodable(path: path, reason: "image \(index): \(reason)")
        }
    }

    struct Entry { let path: String; let isDirectory: Bool; let size: Int }

    /// The folder's entries, hidden ones left out, sorted by name, each stat'ed once.
    static func list(_ dir: String) throws -> [Entry] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: dir) } catch {
            throw DatasetError.unreadable(path: dir, reason: "cannot list the folder")
        }
        return names.filter { !$0.hasPrefix(".") }.sorted().map { name in
            let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            var s = stat()
            guard stat(path, &s) == 0 else { return Entry(path: path, isDirectory: false, size: 0) }
            return Entry(path: path, isDirectory: (s.st_mode & S_IFMT) == S_IFDIR, size: Int(s.st_size))
        }
    }

    static func images(under dir: String) throws -> [(String, Int)] {
        var out: [(String, Int)] = []
        for entry in try list(dir) {
            if entry.isDirectory { out += try images(under: entry.path) } else if isImage(entry.path) { out.append((entry.path, entry.size)) }
        }
        return out
    }

    static func isDirectory(_ p: String) -> Bool {
        var s = stat()
        return stat(p, &s) == 0 && (s.st_mode & S_IFMT) == S_IFDIR
    }

    static func isImage(_ p: String) -> Bool { extensions.contains((p as NSString).pathExtension.lowercased()) }
}
