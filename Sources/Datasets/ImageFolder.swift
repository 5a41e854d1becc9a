import Foundation

/// A folder of PNG and JPEG images, read from disk image by image (never all at once).
///
/// Layout as torchvision's ImageFolder: one subfolder per class (classes are the subfolder names in
/// sorted order, label = position; files inside are found recursively), or — when there are no class
/// subfolders — a flat folder of images without labels. Files are sorted by path, so every rank sees
/// the same order. Every image is handed out with `channels` channels (default: those of the first
/// image): grey images are repeated into RGB, RGB images become grey by luma.
public struct ImageFolder: ImageSource {
    public let root: String
    public let files: [String]
    public let labels: [Int32]?
    public let classes: [String]
    public let channels: Int

    public static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    public init(_ root: String, channels: Int? = nil) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError.missing(path: root)
        }
        self.root = root
        let entries = try Self.list(root)
        let subfolders = entries.filter { Self.isDirectory($0) }
        var files: [String] = [], labels: [Int32] = [], classes: [String] = []
        for dir in subfolders {
            let found = try Self.images(under: dir)
            if found.isEmpty { continue }
            labels += [Int32](repeating: Int32(classes.count), count: found.count)
            classes.append((dir as NSString).lastPathComponent)
            files += found
        }
        if classes.isEmpty {
            files = entries.filter { !Self.isDirectory($0) && Self.isImage($0) }
        }
        guard !files.isEmpty else { throw DatasetError.emptyFolder(path: root) }
        self.files = files
        self.classes = classes
        self.labels = classes.isEmpty ? nil : labels
        self.channels = try channels ?? Self.decode(files[0], index: 0).channels
    }

    private init(root: String, files: [String], labels: [Int32]?, classes: [String], channels: Int) {
        self.root = root; self.files = files; self.labels = labels; self.classes = classes; self.channels = channels
    }

    public var count: Int { files.count }
    public var uniformSize: (height: Int, width: Int)? { nil }
    public var kind: String { classes.isEmpty ? "image folder (no labels)" : "image folder (\(classes.count) classes)" }

    public func limited(to n: Int) -> any ImageSource {
        let m = min(n, count)
        return ImageFolder(root: root, files: Array(files[0..<m]), labels: labels.map { Array($0[0..<m]) }, classes: classes, channels: channels)
    }

    public func location(_ index: Int) -> String { files[index] }

    public func image(_ index: Int) throws -> ImageCodec.Image {
        ImageCodec.converted(try Self.decode(files[index], index: index), to: channels)
    }

    public func withImage<R>(_ index: Int, _ body: (UnsafePointer<UInt8>, Int, Int) throws -> R) throws -> R {
        let im = try image(index)
        return try im.pixels.withUnsafeBufferPointer { try body($0.baseAddress!, im.height, im.width) }
    }

    static func decode(_ path: String, index: Int) throws -> ImageCodec.Image {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError.unreadable(path: path, reason: "image \(index) vanished or is unreadable")
        }
        do { return try ImageCodec.decode([UInt8](data), path: path) } catch DatasetError.undecodable(_, let reason) {
            throw DatasetError.undecodable(path: path, reason: "image \(index): \(reason)")
        }
    }

    static func list(_ dir: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: dir).filter { !$0.hasPrefix(".") }.sorted()
                .map { dir.hasSuffix("/") ? dir + $0 : dir + "/" + $0 }
        } catch {
            throw DatasetError.unreadable(path: dir, reason: "cannot list the folder")
        }
    }

    static func images(under dir: String) throws -> [String] {
        var out: [String] = []
        for p in try list(dir) {
            if isDirectory(p) { out += try images(under: p) } else if isImage(p) { out.append(p) }
        }
        return out
    }

    static func isDirectory(_ p: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: p, isDirectory: &d) && d.boolValue
    }

    static func isImage(_ p: String) -> Bool { extensions.contains((p as NSString).pathExtension.lowercased()) }
}
