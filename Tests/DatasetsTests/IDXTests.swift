import Datasets
import Foundation
import Testing

/// Writes files under a fresh temporary directory.
final class TempDir {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "dc-test-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let p = "\(path)/\(name)"
        FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }
}

func idxImages(_ n: Int, _ h: Int, _ w: Int) -> [UInt8] {
    var b: [UInt8] = [0, 0, 8, 3]
    for v in [n, h, w] { b += [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
    return b + (0..<(n * h * w)).map { UInt8($0 % 251) }
}

func idxLabels(_ n: Int) -> [UInt8] {
    [0, 0, 8, 1, UInt8(n >> 24 & 255), UInt8(n >> 16 & 255), UInt8(n >> 8 & 255), UInt8(n & 255)] + (0..<n).map { UInt8($0 % 10) }
}

/// gzip through the system's gzip, as users' files are made.
func gzip(_ bytes: [UInt8], in dir: TempDir, name: String) throws -> String {
    let p = dir.write(name, bytes)
    let proc = Process()
    proc.executableURL = URL(fileURLWithPath: "/bin/gzip")
    proc.arguments = ["-f", "-n", p]
    try proc.run()
    proc.waitUntilExit()
    return p + ".gz"
}

@Suite struct IDXTests {
    @Test func readsPlainAndGzip() throws {
        let d = TempDir()
        let plain = d.write("x-images-idx3-ubyte", idxImages(5, 4, 3))
        let gz = try gzip(idxImages(5, 4, 3), in: d, name: "y-images-idx3-ubyte")
        let labels = d.write("x-labels-idx1-ubyte", idxLabels(5))
        let a = try IDX.load(images: plain, labels: labels)
        let b = try IDX.load(images: gz, labels: nil)
        #expect(a.count == 5 && a.height == 4 && a.width == 3 && a.pixels == b.pixels)
        #expect(a.labels == [0, 1, 2, 3, 4])
        #expect(a.pixels[7] == 7)
    }

    @Test func missingFile() {
        #expect(throws: DatasetError.missing(path: "/nonexistent/train-images-idx3-ubyte.gz")) {
            try IDX.load(images: "/nonexistent/train-images-idx3-ubyte.gz", labels: nil)
        }
    }

    @Test func wrongMagicNamesTheFile() throws {
        let d = TempDir()
        var b = idxImages(2, 2, 2); b[3] = 1
        let p = d.write("bad", b)
        do { _ = try IDX.load(images: p, labels: nil); Issue.record("no error") } catch let e as DatasetError {
            #expect("\(e)".contains(p) && "\(e)".contains("magic"))
        }
        let labelsAsImages = d.write("lab", idxLabels(3))
        #expect(throws: DatasetError.self) { try IDX.load(images: labelsAsImages, labels: nil) }
    }

    @Test func truncatedData() throws {
        let d = TempDir()
        let p = d.write("trunc", Array(idxImages(10, 4, 4).dropLast(5)))
        #expect(throws: DatasetError.truncated(path: p, expectedBytes: 160, gotBytes: 155)) { try IDX.load(images: p, labels: nil) }
    }

    @Test func truncatedAndCorruptGzip() throws {
        let d = TempDir()
        let gz = try gzip(idxImages(50, 8, 8), in: d, name: "z")
        let full = [UInt8](FileManager.default.contents(atPath: gz)!)
        let cut = d.write("cut.gz", Array(full.prefix(full.count / 2)))
        do { _ = try IDX.load(images: cut, labels: nil); Issue.record("no error") } catch let e as DatasetError {
            guard case .corruptGzip(let path, _) = e else { Issue.record("\(e)"); return }
            #expect(path == cut)
        }
        var flipped = full; flipped[full.count / 2] ^= 0xff
        let bad = d.write("bad.gz", flipped)
        #expect(throws: DatasetError.self) { try IDX.load(images: bad, labels: nil) }
    }

    @Test func labelCountMismatch() throws {
        let d = TempDir()
        let x = d.write("x", idxImages(6, 2, 2)), y = d.write("y", idxLabels(5))
        #expect(throws: DatasetError.countMismatch(images: x, imageCount: 6, labels: y, labelCount: 5)) { try IDX.load(images: x, labels: y) }
    }

    /// Skipped, and reported as skipped, where Debian's dataset-fashion-mnist is not installed.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: FashionMNIST.paths().images), "dataset-fashion-mnist is not installed"))
    func defaultDatasetWhenInstalled() throws {
        let p = FashionMNIST.paths()
        let s = try IDX.load(images: p.images, labels: p.labels)
        #expect(s.count == 60000 && s.height == 28 && s.labels!.count == 60000)
        #expect(Set(s.labels!) == Set(0..<10))
    }
}
