import Datasets
import Foundation

/// Opens the dataset a configuration names (Fashion-MNIST from Debian's package by default).
public enum DatasetLoader {
    public static func load(data: String?, labels: String?, format: String, train: Bool = true) throws -> ImageSet {
        guard let data else {
            let p = FashionMNIST.paths(train: train)
            return try IDX.load(images: p.images, labels: p.labels)
        }
        let kind = format == "auto" ? try detect(data) : format
        switch kind {
        case "idx":
            return try IDX.load(images: data, labels: labels ?? guessIDXLabels(data))
        case "npy":
            let x = try NPY.read(data)
            guard x.dtype == .uint8, x.shape.count == 3 || x.shape.count == 4 else {
                throw DatasetError.unsupported(path: data, reason: "expected uint8 N×H×W or N×H×W×C, got \(x.dtype.rawValue) \(x.shape)")
            }
            let n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape.count == 4 ? x.shape[3] : 1
            var pixels = x.bytes
            if c > 1 {   // HWC → CHW per image
                pixels = [UInt8](repeating: 0, count: x.bytes.count)
                for i in 0..<n { for p in 0..<(h * w) { for ch in 0..<c { pixels[i * c * h * w + ch * h * w + p] = x.bytes[(i * h * w + p) * c + ch] } } }
            }
            var y: [Int32]? = nil
            if let labels {
                let l = try NPY.read(labels)
                guard l.count == n else { throw DatasetError.countMismatch(images: data, imageCount: n, labels: labels, labelCount: l.count) }
                y = l.int64s.map { Int32(truncatingIfNeeded: $0) }
            }
            return ImageSet(pixels: pixels, count: n, channels: c, height: h, width: w, labels: y)
        default:
            throw DatasetError.unsupported(path: data, reason: "--format \(kind) is not supported by this build (idx, npy)")
        }
    }

    /// The normalisation for a dataset: Fashion-MNIST's statistics for the default dataset, a generic
    /// mean 0.5 / std 0.25 per channel for user data.
    public static func transforms(for set: ImageSet, defaultDataset: Bool) -> Transforms {
        defaultDataset && set.channels == 1 ? .fashionMNIST
            : Transforms(mean: [Float](repeating: 0.5, count: set.channels), std: [Float](repeating: 0.25, count: set.channels))
    }

    /// "...-images-idx3-ubyte(.gz)" pairs with "...-labels-idx1-ubyte(.gz)" when that file exists.
    static func guessIDXLabels(_ images: String) -> String? {
        let guess = images.replacingOccurrences(of: "images-idx3", with: "labels-idx1")
        return guess != images && FileManager.default.fileExists(atPath: guess) ? guess : nil
    }

    static func detect(_ path: String) throws -> String {
        if path.hasSuffix(".npy") { return "npy" }
        let b = try FileBytes.read(path)
        if b.count >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0x08 { return "idx" }
        if b.count >= 6 && b[0] == 0x93 { return "npy" }
        throw DatasetError.unknownFormat(path: path)
    }
}
