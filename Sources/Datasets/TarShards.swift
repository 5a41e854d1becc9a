import Foundation

/// Images in tar shards, the WebDataset layout clusters keep ImageNet-sized data in: members grouped
/// into samples by key (the member's path up to the first dot of its file name: `n01440764/0001.jpg`
/// and `n01440764/0001.cls` are one sample), the image from its `.jpg`, `.jpeg` or `.png` member, the
/// label from its `.cls` member (a decimal integer) where every sample has one.
///
/// Shards are named by a brace pattern (`DIR/shard-{000000..000099}.tar`), a folder of `.tar` files
/// or one `.tar`. Opening reads each shard's 512-byte member headers (not their data); an image is then
/// read by pread of its member's bytes alone, so a rank reads only the images it decodes, and nothing is
/// ever extracted to disk. Random access, not streaming: DeepCluster samples uniformly over its
/// clusters, so a rank's images of an epoch are spread over every shard. Open shards are kept in a
/// bounded cache of file descriptors shared by the decoding threads.
public struct TarShards: ImageSource {
    public struct Sample: Sendable {
        let shard: Int32
        let offset: Int64
        let size: Int64
        public let name: String
    }

    public let pattern: String
    public let shards: [String]
    public let shardSizes: [Int64]
    public let samples: [Sample]
    public let labels: [Int32]?
    public let channels: Int
    public let listingProblems: [(location: String, reason: String)]
    /// As ImageFolder's: JPEGs decode at a fraction of their size while the shorter side stays this long.
    public var minimumDecodeSide = 0
    let files: ShardFiles

    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]

    public init(_ pattern: String, channels: Int? = nil) throws {
        self.pattern = pattern
        let shards = try Self.shardPaths(pattern)
        let files = ShardFiles(shards)
        var samples: [Sample] = [], labels: [Int32?] = [], problems: [(String, String)] = [], sizes: [Int64] = []
        for (s, path) in shards.enumerated() {
            guard let size = FileRange.size(path) else { throw DatasetError.missing(path: path) }
            sizes.append(Int64(size))
            let listing = try files.withDescriptor(Int32(s)) { fd in TarArchive.members(of: path, fd: fd, fileSize: Int64(size)) }
            if let p = listing.problem { problems.append((path, p)) }
            var i = 0
            let members = listing.members
            while i < members.count {
                let key = Self.key(members[i].name)
                var j = i
                var image: TarArchive.Member?, label: Int32?
                while j < members.count && Self.key(members[j].name) == key {
                    let ext = Self.extensionOf(members[j].name)
                    if image == nil && Self.imageExtensions.contains(ext) { image = members[j] }
                    if ext == "cls", members[j].size < 64,
                       let text = try? files.withDescriptor(Int32(s), { try FileRange.read(fd: $0, path: path, offset: Int(members[j].offset), count: Int(members[j].size)) }),
                       let value = Int32(String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)), value >= 0 {
                        label = value
                    }
                    j += 1
                }
                if let image {
                    samples.append(Sample(shard: Int32(s), offset: image.offset, size: image.size, name: image.name))
                    labels.append(label)
                } else {
                    problems.append(("\(path):\(key)", "a sample without a .jpg, .jpeg or .png member"))
                }
                i = j
            }
        }
        guard !samples.isEmpty else { throw DatasetError.unsupported(path: pattern, reason: "no .jpg, .jpeg or .png members in \(shards.count) tar shard(s)" + (problems.first.map { "; \($0.0): \($0.1)" } ?? "")) }
        self.shards = shards
        self.shardSizes = sizes
        self.samples = samples
        self.files = files
        self.listingProblems = problems
        self.labels = labels.allSatisfy { $0 != nil } ? labels.map { $0! } : nil
        self.channels = channels ?? EncodedImageCheck.firstChannels(count: samples.count, size: { Int(samples[$0].size) },
                                                                    path: { samples[$0].name }) { i, offset, count in
            try Self.read(samples[i], files: files, shards: shards, offset: offset, count: count)
        }
    }

    private init(_ base: TarShards, samples: [Sample], labels: [Int32]?, channels: Int? = nil, minimumDecodeSide: Int? = nil) {
        pattern = base.pattern; shards = base.shards; shardSizes = base.shardSizes; files = base.files
        listingProblems = base.listingProblems
        self.channels = channels ?? base.channels
        self.minimumDecodeSide = minimumDecodeSide ?? base.minimumDecodeSide
        self.samples = samples; self.labels = labels
    }

    public func reading(channels: Int?, minimumDecodeSide: Int) -> any ImageSource {
        TarShards(self, samples: samples, labels: labels, channels: channels, minimumDecodeSide: minimumDecodeSide)
    }

    public var count: Int { samples.count }
    public var uniformSize: (height: Int, width: Int)? { nil }
    public var kind: String { "tar shards (\(shards.count) shard(s)\(labels == nil ? ", no labels" : ", labels from .cls"))" }

    public func limited(to n: Int) -> any ImageSource {
        let m = min(n, count)
        return TarShards(self, samples: Array(samples[0..<m]), labels: labels.map { Array($0[0..<m]) })
    }

    public func location(_ index: Int) -> String { "\(shards[Int(samples[index].shard)]):\(samples[index].name)" }

    public func image(_ index: Int) throws -> ImageCodec.Image {
        let s = samples[index]
        let bytes = try Self.read(s, files: files, shards: shards, count: Int(s.size))
        guard bytes.count == Int(s.size) else { throw DatasetError.unreadable(path: location(index), reason: "image \(index): the shard is shorter than when it was listed") }
        do {
            return ImageCodec.converted(try ImageCodec.decode(bytes, path: location(index), minimumSide: minimumDecodeSide), to: channels)
        } catch DatasetError.undecodable(let path, let reason) {
            throw DatasetError.undecodable(path: path, reason: "image \(index): \(reason)")
        }
    }

    public func withImage<R>(_ index: Int, _ body: (UnsafePointer<UInt8>, Int, Int) throws -> R) throws -> R {
        let im = try image(index)
        return try im.pixels.withUnsafeBufferPointer { try body($0.baseAddress!, im.height, im.width) }
    }

    public func check(_ index: Int, decode: Bool) -> String? {
        let s = samples[index]
        return EncodedImageCheck.check(size: Int(s.size), path: location(index), decode: decode) {
            try Self.read(s, files: files, shards: shards, offset: $0, count: $1)
        }
    }

    /// The shards' names and sizes and the samples' member names.
    public func fingerprint() -> UInt64 {
        var f = Fingerprint()
        for (path, size) in zip(shards, shardSizes) { f.add("\((path as NSString).lastPathComponent)\u{0}\(size)\n") }
        for s in samples { f.add("\(s.shard) \(s.name)\n") }
        return f.value
    }

    /// `count` bytes of a sample's member from `offset` within it.
    static func read(_ s: Sample, files: ShardFiles, shards: [String], offset: Int = 0, count: Int) throws -> [UInt8] {
        try files.withDescriptor(s.shard) { try FileRange.read(fd: $0, path: shards[Int(s.shard)], offset: Int(s.offset) + offset, count: count) }
    }

    /// WebDataset's key: the path up to the first dot of the file name.
    static func key(_ name: String) -> Substring {
        let slash = name.lastIndex(of: "/").map { name.index(after: $0) } ?? name.startIndex
        return name[..<(name[slash...].firstIndex(of: ".") ?? name.endIndex)]
    }

    static func extensionOf(_ name: String) -> String {
        let slash = name.lastIndex(of: "/").map { name.index(after: $0) } ?? name.startIndex
        guard let dot = name[slash...].firstIndex(of: ".") else { return "" }
        return name[name.index(after: dot)...].lowercased()
    }

    /// The shard files a pattern names: brace-expanded, a folder's `.tar` files sorted, or one file.
    public static func shardPaths(_ pattern: String) throws -> [String] {
        if pattern.contains("{") {
            let paths = try BraceExpansion.expand(pattern)
            for p in paths where FileRange.size(p) == nil { throw DatasetError.missing(path: p) }
            return paths
        }
        if ImageFolder.isDirectory(pattern) {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: pattern)) ?? []
            let tars = names.filter { $0.hasSuffix(".tar") && !$0.hasPrefix(".") }.sorted()
            guard !tars.isEmpty else { throw DatasetError.unsupported(path: pattern, reason: "no .tar shards in this folder") }
            return tars.map { pattern.hasSuffix("/") ? pattern + $0 : pattern + "/" + $0 }
        }
        guard FileRange.size(pattern) != nil else { throw DatasetError.missing(path: pattern) }
        return [pattern]
    }

    /// True for what names tar shards: a brace pattern or path ending in `.tar`, or a folder holding
    /// `.tar` files and no images.
    public static func names(_ path: String) -> Bool {
        if path.hasSuffix(".tar") || (path.contains("{") && path.contains(".tar")) { return true }
        guard ImageFolder.isDirectory(path), let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return false }
        return names.contains { $0.hasSuffix(".tar") } && !names.contains { ImageFolder.isImage($0) || ImageFolder.isDirectory(path + "/" + $0) }
    }
}

/// The shards' file descriptors, opened on first use and kept (at most `limit` at once, the oldest
/// closed first) so that a parallel filesystem sees one open per shard, not one per image.
final class ShardFiles: @unchecked Sendable {
    let paths: [String]
    let limit: Int
    private var open: [Int32: Int32] = [:]
    private var order: [Int32] = []
    private var inUse: [Int32: Int] = [:]
    private let lock = NSLock()

    init(_ paths: [String], limit: Int = 64) { self.paths = paths; self.limit = limit }

    deinit { for fd in open.values { close(fd) } }

    func withDescriptor<R>(_ shard: Int32, _ body: (Int32) throws -> R) throws -> R {
        let fd = try acquire(shard)
        defer { release(shard) }
        return try body(fd)
    }

    private func acquire(_ shard: Int32) throws -> Int32 {
        lock.lock(); defer { lock.unlock() }
        if let fd = open[shard] { inUse[shard, default: 0] += 1; return fd }
        let path = paths[Int(shard)]
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DatasetError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        open[shard] = fd; order.append(shard); inUse[shard, default: 0] += 1
        while open.count > limit, let victim = order.first(where: { (inUse[$0] ?? 0) == 0 }) {
            order.removeAll { $0 == victim }
            if let v = open.removeValue(forKey: victim) { close(v) }
        }
        return fd
    }

    private func release(_ shard: Int32) {
        lock.lock(); defer { lock.unlock() }
        inUse[shard, default: 1] -= 1
    }
}
