import Datasets
import Foundation
import NN

/// Opens the dataset a configuration names (Fashion-MNIST from Debian's package by default) and
/// chooses the transforms that bring its images to the architecture's input.
public enum DatasetLoader {
    public static let formats = ["auto", "idx", "cifar", "folder", "tar", "npy"]

    /// `train` picks the split where a format has two (Fashion-MNIST's default files, a CIFAR folder).
    /// `channels` converts a folder's images to that many channels (the architecture's input).
    /// `minimumDecodeSide` lets a folder's or shards' JPEGs decode at a fraction of their size (`Recipe.jpegDraft`).
    public static func load(data: String?, labels: String?, format: String, train: Bool = true, channels: Int? = nil,
                            minimumDecodeSide: Int = 0) throws -> any ImageSource {
        try loadListing(data: data, labels: labels, format: format, train: train, channels: channels)
            .reading(channels: channels, minimumDecodeSide: minimumDecodeSide)
    }

    static func loadListing(data: String?, labels: String?, format: String, train: Bool, channels: Int?) throws -> any ImageSource {
        guard let data else {
            let p = FashionMNIST.paths(train: train)
            return try IDX.load(images: p.images, labels: p.labels)
        }
        let kind = format == "auto" ? try detect(data) : format
        switch kind {
        case "idx":
            if isDirectory(data) {
                let files = try idxFolderFiles(data, train: train)
                return try IDX.load(images: files.images, labels: labels ?? files.labels)
            }
            return try IDX.load(images: data, labels: labels ?? guessIDXLabels(data))
        case "cifar":
            let set = try CIFAR.load(data, train: train)
            return labels == nil ? set : try withLabels(set, path: data, labels: labels!)
        case "folder":
            let folder = try ImageFolder(data, channels: channels)
            if labels != nil { throw DatasetError.unsupported(path: data, reason: "an image folder takes its labels from its class subfolders; drop --labels") }
            return folder
        case "tar":
            let shards = try TarShards(data, channels: channels)
            if labels != nil { throw DatasetError.unsupported(path: data, reason: "tar shards take their labels from their .cls members; drop --labels") }
            return shards
        case "npy":
            return try loadNPY(data, labels: labels)
        default:
            throw DatasetError.unsupported(path: data, reason: "--format \(kind) is not one of \(formats.joined(separator: ", "))")
        }
    }

    /// True when `data` has a test split of its own that `load(train: false)` reads: the default
    /// Fashion-MNIST files, a folder of IDX files or a CIFAR folder. A single file (.npy, IDX, one CIFAR
    /// batch) or an image folder has none.
    public static func hasTestSplit(data: String?, format: String) -> Bool {
        guard let data else { return true }
        guard isDirectory(data), let kind = try? (format == "auto" ? detect(data) : format) else { return false }
        return kind == "idx" || kind == "cifar"
    }

    /// uint8 (values 0–255) or float32 (values 0–1, clamped) arrays, N×H×W or N×H×W×C (C = 1 or 3).
    static func loadNPY(_ data: String, labels: String?) throws -> ImageSet {
        let x = try NPY.read(data)
        guard x.dtype == .uint8 || x.dtype == .float32, x.shape.count == 3 || (x.shape.count == 4 && [1, 3].contains(x.shape[3])) else {
            throw DatasetError.unsupported(path: data, reason: "expected uint8 or float32 N×H×W or N×H×W×C with C = 1 or 3, got \(x.dtype.rawValue) \(x.shape)")
        }
        let n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape.count == 4 ? x.shape[3] : 1
        guard n > 0, h > 0, w > 0 else { throw DatasetError.unsupported(path: data, reason: "no images in an array of shape \(x.shape)") }
        let bytes: [UInt8] = x.dtype == .uint8 ? x.bytes : x.floats.map { v in v.isNaN ? 0 : UInt8((min(max(v, 0), 1) * 255).rounded()) }
        var pixels = bytes
        if c > 1 {   // HWC → CHW per image
            pixels = [UInt8](repeating: 0, count: bytes.count)
            for i in 0..<n { for p in 0..<(h * w) { for ch in 0..<c { pixels[i * c * h * w + ch * h * w + p] = bytes[(i * h * w + p) * c + ch] } } }
        }
        let set = ImageSet(pixels: pixels, count: n, channels: c, height: h, width: w, labels: nil, kind: ".npy \(x.dtype.rawValue) array")
        return labels == nil ? set : try withLabels(set, path: data, labels: labels!)
    }

    /// The set with labels from a .npy (any integer type) or IDX labels file of the same length.
    static func withLabels(_ set: ImageSet, path: String, labels: String) throws -> ImageSet {
        let values: [Int64]
        if labels.hasSuffix(".npy") { values = try NPY.read(labels).int64s }
        else { values = try IDX.read(labels, dimensions: 1).data.map { Int64($0) } }
        guard values.count == set.count else {
            throw DatasetError.countMismatch(images: path, imageCount: set.count, labels: labels, labelCount: values.count)
        }
        if let bad = values.firstIndex(where: { $0 < 0 || $0 > Int64(Int32.max) }) {
            throw DatasetError.unsupported(path: labels, reason: "label \(bad) is \(values[bad]); labels must be 0 or more")
        }
        return ImageSet(pixels: set.pixels, count: set.count, channels: set.channels, height: set.height, width: set.width,
                        labels: values.map { Int32($0) }, kind: set.kind)
    }

    /// The transforms a training configuration asks for: its architecture, resize, augmentation and
    /// colour jitter (Fashion-MNIST's normalisation when it names no data).
    public static func transforms(for source: any ImageSource, recipe c: Recipe) throws -> Transforms {
        var t = try transforms(for: source, architecture: c.architecture(), resize: c.resize, augmentation: c.augmentation.rawValue,
                               cropScale: c.cropScale, defaultDataset: c.data == nil)
        t.brightness = c.brightness; t.contrast = c.contrast; t.blur = c.blur
        t.saturation = c.saturation; t.grayscale = c.grayscale
        return t
    }

    /// The transforms that bring `source` to the architecture's input.
    ///
    /// Images already at the input size keep it: the clustering pass only normalises, training adds the
    /// reference's small-image recipe (random crop with 2-pixel zero padding + flip). Other images
    /// (folders, larger arrays) go through the reference's ImageNet pipeline: clustering resizes the
    /// shorter side to `resize` (default input × 8/7, 256 for 224) and cuts the centre; training takes
    /// a RandomResizedCrop (scale `cropScale`–1, ratio 3/4–4/3) + flip. `resize` 0 means never resize:
    /// every image must then be at the input size. `augmentation` "pad-crop" or "resized-crop" overrides.
    public static func transforms(for source: any ImageSource, architecture arch: Architecture, resize: Int? = nil,
                                  augmentation: String = "auto", cropScale: Double = 0.08, defaultDataset: Bool) throws -> Transforms {
        let s = arch.inputSize
        let (mean, std) = normalisation(source, defaultDataset: defaultDataset)
        guard source.channels == arch.inputChannels else {
            throw DatasetError.unsupported(path: source.kind, reason: "images have \(source.channels) channel(s); --arch \(arch.name) takes \(arch.inputChannels)")
        }
        let native = source.uniformSize.map { $0 == (s, s) } ?? false
        if resize == 0 && !native, let u = source.uniformSize {
            throw DatasetError.unsupported(path: source.kind, reason: "images are \(u.height)×\(u.width), --arch \(arch.name) takes \(s)×\(s), and --resize 0 forbids resizing")
        }
        let resizeTo: Int? = resize == 0 ? nil : (resize ?? (native ? nil : (s * 8 + 6) / 7))
        let aug: Transforms.Augmentation
        switch augmentation {
        case "pad-crop": aug = .padCrop(padding: 2)
        case "resized-crop": aug = .resizedCrop(scale: cropScale...1, ratio: (3.0 / 4)...(4.0 / 3))
        default: aug = native || resize == 0 ? .padCrop(padding: 2) : .resizedCrop(scale: cropScale...1, ratio: (3.0 / 4)...(4.0 / 3))
        }
        return Transforms(mean: mean, std: std, size: s, resize: resizeTo, augmentation: aug)
    }

    /// Fashion-MNIST's statistics for the default dataset, CIFAR-10's for CIFAR, ImageNet's (the
    /// reference's) for other colour images, mean 0.5 / std 0.25 for other grey images.
    static func normalisation(_ source: any ImageSource, defaultDataset: Bool) -> (mean: [Float], std: [Float]) {
        if defaultDataset && source.channels == 1 { return ([FashionMNIST.mean], [FashionMNIST.std]) }
        if source.kind.hasPrefix("CIFAR") { return ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]) }
        if source.channels == 3 { return ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]) }
        return ([Float](repeating: 0.5, count: source.channels), [Float](repeating: 0.25, count: source.channels))
    }

    /// "...-images-idx3-ubyte(.gz)" pairs with "...-labels-idx1-ubyte(.gz)" when that file exists.
    static func guessIDXLabels(_ images: String) -> String? {
        let guess = images.replacingOccurrences(of: "images-idx3", with: "labels-idx1")
        return guess != images && FileManager.default.fileExists(atPath: guess) ? guess : nil
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// A folder in MNIST's layout (Fashion-MNIST's own, as Debian installs it): `train-images-idx3-ubyte`
    /// and `t10k-images-idx3-ubyte`, plain or `.gz`, each beside its `-labels-idx1-ubyte` file. `train`
    /// picks the split; a folder with one split's images only serves that split.
    static func idxFolderFiles(_ folder: String, train: Bool) throws -> (images: String, labels: String?) {
        let split = train ? "train" : "t10k"
        for suffix in ["", ".gz"] {
            let images = "\(folder)/\(split)-images-idx3-ubyte\(suffix)"
            if FileManager.default.fileExists(atPath: images) { return (images, guessIDXLabels(images)) }
        }
        throw DatasetError.unsupported(path: folder, reason: "a folder of IDX files needs \(split)-images-idx3-ubyte or \(split)-images-idx3-ubyte.gz")
    }

    static func isIDXFolder(_ folder: String) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.contains { $0.hasPrefix("train-images-idx3-ubyte") || $0.hasPrefix("t10k-images-idx3-ubyte") }
    }

    static func detect(_ path: String) throws -> String {
        if TarShards.names(path) { return "tar" }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw DatasetError.missing(path: path) }
        if isDir.boolValue {
            let cifar = ["data_batch_1.bin", "train.bin"].contains { FileManager.default.fileExists(atPath: "\(path)/\($0)") }
            if cifar { return "cifar" }
            return isIDXFolder(path) ? "idx" : "folder"
        }
        if path.hasSuffix(".npy") { return "npy" }
        if path.hasSuffix(".bin") { return "cifar" }
        if let b = try? FileBytes.head(path, count: 8) {
            if b.count >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0x08 { return "idx" }
            if b.count >= 6 && b[0] == 0x93 { return "npy" }
        }
        // Not recognised from its first bytes: read it whole, so a corrupt or truncated gzip stream
        // is reported as such rather than as an unknown format.
        _ = try FileBytes.read(path)
        throw DatasetError.unknownFormat(path: path)
    }
}
