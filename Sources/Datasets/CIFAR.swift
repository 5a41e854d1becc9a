import Foundation

/// CIFAR-10 and CIFAR-100 binary batches ("binary version" of the datasets).
///
/// CIFAR-10 records are 1 label byte + 3072 pixel bytes (R, G, B planes of 32×32); CIFAR-100 records
/// are a coarse and a fine label byte + 3072 (the fine label is used). A path may be one batch file or
/// the extracted folder: `cifar-10-batches-bin/` (data_batch_1..5.bin for training, test_batch.bin for
/// testing) or `cifar-100-binary/` (train.bin, test.bin).
public enum CIFAR {
    public static let side = 32
    public static let pixelBytes = 3 * 32 * 32

    public enum Variant: Sendable {
        case cifar10, cifar100
        var labelBytes: Int { self == .cifar10 ? 1 : 2 }
        var recordBytes: Int { labelBytes + CIFAR.pixelBytes }
        var classes: Int { self == .cifar10 ? 10 : 100 }
        var name: String { self == .cifar10 ? "CIFAR-10" : "CIFAR-100" }
    }

    /// The batch files a path names, and their variant.
    public static func files(_ path: String, train: Bool) throws -> (files: [String], variant: Variant) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw DatasetError.missing(path: path) }
        let base = (path as NSString).lastPathComponent
        if !isDir.boolValue {
            return ([path], try variant(of: path, name: base))
        }
        let dir = path.hasSuffix("/") ? String(path.dropLast()) : path
        let ten = train ? (1...5).map { "\(dir)/data_batch_\($0).bin" } : ["\(dir)/test_batch.bin"]
        if FileManager.default.fileExists(atPath: ten[0]) {
            for f in ten where !FileManager.default.fileExists(atPath: f) { throw DatasetError.missing(path: f) }
            return (ten, .cifar10)
        }
        let hundred = "\(dir)/\(train ? "train" : "test").bin"
        if FileManager.default.fileExists(atPath: hundred) { return ([hundred], .cifar100) }
        throw DatasetError.unsupported(path: path, reason: "not a CIFAR folder: expected data_batch_1.bin … (CIFAR-10) or train.bin (CIFAR-100)")
    }

    /// CIFAR-100's files are train.bin and test.bin; anything else of a size that fits CIFAR-10 is CIFAR-10.
    static func variant(of path: String, name: String) throws -> Variant {
        if name == "train.bin" || name == "test.bin" { return .cifar100 }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if size > 0 && size % Variant.cifar10.recordBytes == 0 { return .cifar10 }
        if size > 0 && size % Variant.cifar100.recordBytes == 0 { return .cifar100 }
        throw DatasetError.unsupported(path: path, reason: "\(size) bytes is not a whole number of CIFAR-10 (3073-byte) or CIFAR-100 (3074-byte) records")
    }

    /// Parses one batch file's bytes.
    public static func decode(_ b: [UInt8], variant: Variant, path: String) throws -> (pixels: [UInt8], labels: [Int32]) {
        let r = variant.recordBytes
        guard !b.isEmpty else { throw DatasetError.truncated(path: path, expectedBytes: r, gotBytes: 0) }
        guard b.count % r == 0 else {
            throw DatasetError.truncated(path: path, expectedBytes: (b.count / r + 1) * r, gotBytes: b.count)
        }
        let n = b.count / r
        var pixels = [UInt8](repeating: 0, count: n * pixelBytes)
        var labels = [Int32](repeating: 0, count: n)
        try b.withUnsafeBufferPointer { src in
            try pixels.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    let rec = src.baseAddress! + i * r
                    let label = Int(rec[variant.labelBytes - 1])
                    guard label < variant.classes else {
                        throw DatasetError.unsupported(path: path, reason: "record \(i) has label \(label); \(variant.name) has \(variant.classes) classes")
                    }
                    labels[i] = Int32(label)
                    (dst.baseAddress! + i * pixelBytes).update(from: rec + variant.labelBytes, count: pixelBytes)
                }
            }
        }
        return (pixels, labels)
    }

    public static func load(_ path: String, train: Bool = true) throws -> ImageSet {
        let (files, variant) = try files(path, train: train)
        var pixels: [UInt8] = [], labels: [Int32] = []
        for f in files {
            let (p, l) = try decode(try FileBytes.read(f), variant: variant, path: f)
            pixels += p; labels += l
        }
        return ImageSet(pixels: pixels, count: labels.count, channels: 3, height: side, width: side, labels: labels, kind: variant.name)
    }
}
