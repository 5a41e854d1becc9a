import Datasets
import Foundation
import Testing

@Suite struct ImageFolderTests {
    @Test func decodesPNGAndJPEGAsPILDoes() throws {
        let decoded = ImageFixture.json["decoded"] as! [String: [String: Any]]
        for (rel, entry) in decoded {
            let path = ImageFixture.folder + "/" + rel
            let im = try ImageCodec.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), path: path)
            let shape = ImageFixture.ints(entry["shape"])
            #expect([im.channels, im.height, im.width] == shape, "\(rel)")
            let want = ImageFixture.ints(entry["pixels"])
            let tolerance = (entry["tolerance"] as? Int) ?? 0
            let worst = zip(im.pixels, want).map { abs(Int($0) - $1) }.max() ?? 0
            #expect(worst <= tolerance, "\(rel): largest difference from PIL \(worst)")
        }
    }

    @Test func classFoldersGiveSortedClassesAndLabels() throws {
        let f = try ImageFolder(ImageFixture.folder)
        #expect(f.classes == ["coat", "shirt"])
        #expect(f.files.map { ($0 as NSString).lastPathComponent } == ["a.png", "b.jpg", "c.png", "d.jpeg", "e.png", "f_rgba.png"])
        #expect(f.labels == [0, 0, 0, 1, 1, 1])
        #expect(f.channels == 1 && f.uniformSize == nil)
        // The RGB images come out grey, as the first image is.
        let rgb = try f.image(3)
        #expect(rgb.channels == 1 && rgb.height == 30 && rgb.width == 26)
        let flat = try ImageFolder(ImageFixture.folder + "/shirt")
        #expect(flat.labels == nil && flat.count == 3 && flat.channels == 3)
    }

    @Test func badImagesNameTheFileAndIndex() throws {
        let dir = NSTemporaryDirectory() + "folder-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/x", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = try Data(contentsOf: URL(fileURLWithPath: ImageFixture.folder + "/shirt/d.jpeg"))
        try good.write(to: URL(fileURLWithPath: dir + "/x/0.jpg"))
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: dir + "/x/1.jpg"))
        try Data([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/x/2.png"))
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: dir + "/x/3.jpg"))
        let f = try ImageFolder(dir)
        _ = try f.image(0)
        for i in 1...3 {
            #expect { _ = try f.image(i) } throws: { e in
                let s = "\(e)"
                return s.contains(f.files[i]) && s.contains("image \(i)") && s.contains("cannot decode")
            }
        }
        try FileManager.default.createDirectory(atPath: dir + "/empty/sub", withIntermediateDirectories: true)
        #expect(throws: DatasetError.emptyFolder(path: dir + "/empty")) { _ = try ImageFolder(dir + "/empty") }
    }

    @Test func cmykAndOversizedImagesAreRefused() throws {
        // huge.jpg: 610 bytes found by FuzzImage whose header claims a 12.8 GB image (it was allocated).
        for (name, reason) in [("cmyk.jpg", "CMYK JPEG is not supported"), ("wide.png", "PNG size out of range"),
                               ("huge.jpg", "JPEG size out of range")] {
            let path = ImageFixture.directory + "/" + name
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            #expect { _ = try ImageCodec.decode(bytes, path: path) } throws: { "\($0)".contains(reason) && "\($0)".contains(name) }
        }
    }
}
