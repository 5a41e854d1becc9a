import Datasets
import DeepCluster
import Foundation
import NN
import Testing

/// Bad labels, labels where a format carries its own, arrays the loader cannot use, and images that
/// would need a resize that --resize 0 forbids.
@Suite struct DatasetLoaderTests {
    let dir: String = {
        let d = NSTemporaryDirectory() + "loader-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    func write(_ name: String, _ data: Data) throws -> String {
        let p = "\(dir)/\(name)"
        try data.write(to: URL(fileURLWithPath: p))
        return p
    }

    @Test func labelsThatAreNotClassIndicesAreRefused() throws {
        let images = try write("x.npy", NPY.encode([UInt8](repeating: 3, count: 3 * 28 * 28), dtype: .uint8, shape: [3, 28, 28]))
        let fractional = try write("y.npy", NPY.encode([Float(0), 1.5, 2], dtype: .float32, shape: [3]))
        #expect { _ = try DatasetLoader.load(data: images, labels: fractional, format: "auto") } throws: { "\($0)".contains("label 1 is -1") }
        let negative = try write("n.npy", NPY.encode([Int32(0), 4, -2], dtype: .int32, shape: [3]))
        #expect { _ = try DatasetLoader.load(data: images, labels: negative, format: "npy") } throws: { "\($0)".contains("label 2 is -2") }
        let ok = try DatasetLoader.load(data: images, labels: try write("ok.npy", NPY.encode([Int64(0), 1, 2], dtype: .int64, shape: [3])), format: "auto")
        #expect(ok.labels == [0, 1, 2])
    }

    @Test func arraysOfTheWrongKindAreRefused() throws {
        let ints = try write("i.npy", NPY.encode([Int32](repeating: 1, count: 2 * 4 * 4), dtype: .int32, shape: [2, 4, 4]))
        #expect { _ = try DatasetLoader.load(data: ints, labels: nil, format: "auto") } throws: { "\($0)".contains("expected uint8 or float32") }
        let channels = try write("c.npy", NPY.encode([UInt8](repeating: 1, count: 2 * 4 * 4 * 2), dtype: .uint8, shape: [2, 4, 4, 2]))
        #expect { _ = try DatasetLoader.load(data: channels, labels: nil, format: "auto") } throws: { "\($0)".contains("C = 1 or 3") }
        try FileManager.default.createDirectory(atPath: "\(dir)/folder/a", withIntermediateDirectories: true)
        _ = try write("folder/a/0.png", try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../DatasetsTests/Fixtures/folder/coat/a.png").standardized))
        #expect { _ = try DatasetLoader.load(data: "\(dir)/folder", labels: ints, format: "auto") } throws: { "\($0)".contains("drop --labels") }
    }

    @Test func resizeZeroRefusesImagesOfAnotherSize() throws {
        let set = ImageSet(pixels: [UInt8](repeating: 0, count: 2 * 32 * 32), count: 2, channels: 1, height: 32, width: 32, labels: nil)
        #expect { _ = try DatasetLoader.transforms(for: set, architecture: .fmnistAlexNet, resize: 0, defaultDataset: false) } throws: {
            "\($0)".contains("images are 32×32, --arch fmnist-alexnet takes 28×28, and --resize 0 forbids resizing")
        }
        let t = try DatasetLoader.transforms(for: set, architecture: .fmnistAlexNet, defaultDataset: false)
        #expect(t.resize == 32 && t.size == 28)   // automatic: 28 × 8/7, then the centre 28×28
    }
}
