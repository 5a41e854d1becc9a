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

    @Test func decodesEveryKindOfJPEGAndPNGAsPILDoes() throws {
        // decoders/ and decoders.json: make_decoder_fixture.py (PIL 9.4's convert("RGB"/"L"), or NumPy where
        // the trainer differs from PIL on purpose: 16-bit grey keeps its high byte, CMYK without Adobe's marker
        // is not inverted).
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ImageFixture.directory + "/decoders.json"))) as! [String: [String: Any]]
        #expect(json.count >= 13)
        for (name, entry) in json {
            let path = ImageFixture.directory + "/decoders/" + name
            let im = try ImageCodec.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), path: path)
            #expect([im.channels, im.height, im.width] == ImageFixture.ints(entry["shape"]), "\(name)")
            let want = ImageFixture.ints(entry["pixels"])
            let worst = zip(im.pixels, want).map { abs(Int($0) - $1) }.max() ?? 0
            #expect(worst <= (entry["tolerance"] as? Int ?? 0), "\(name): largest difference from \(entry["source"] ?? "") \(worst)")
        }
        // The older CMYK fixture (Adobe marker) decodes as colour too.
        let cmyk = try ImageCodec.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: ImageFixture.directory + "/cmyk.jpg"))), path: "cmyk.jpg")
        #expect(cmyk.channels == 3)
    }

    @Test func oversizedImagesAreRefusedFromTheirHeader() throws {
        // huge.jpg: 610 bytes found by FuzzImage whose header claims a 12.8 GB image (it was allocated);
        // bomb-progressive.jpg: a progressive JPEG claiming 65,500 × 65,500 (libjpeg would allocate its
        // coefficient buffer, 25 GB, inside jpeg_start_decompress).
        for (name, reason) in [("wide.png", "PNG size out of range"), ("huge.jpg", "JPEG size out of range"),
                               ("decoders/bomb-progressive.jpg", "JPEG size out of range")] {
            let path = ImageFixture.directory + "/" + name
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            #expect { _ = try ImageCodec.decode(bytes, path: path) } throws: { "\($0)".contains(reason) && "\($0)".contains(name) }
            let probed = bytes.withUnsafeBufferPointer { b in Result { try ImageCodec.probe(b, path: path) } }
            #expect(throws: (any Error).self, "\(name): the header probe refuses it too") { try probed.get() }
        }
    }

    @Test func jpegDecodesAtAFractionOfItsSizeWhenTheShorterSideAllows() throws {
        let rows = 96, cols = 160
        var pixels = [UInt8](repeating: 0, count: 3 * rows * cols)
        for i in 0..<pixels.count { pixels[i] = UInt8((i * 7 + i / cols) % 251) }
        let jpeg = try ImageCodec.encode(ImageCodec.Image(pixels: pixels, channels: 3, height: rows, width: cols), jpegQuality: 90)
        for (side, expected) in [(0, (96, 160)), (96, (96, 160)), (48, (48, 80)), (40, (48, 80)), (24, (24, 40)), (12, (12, 20)), (5, (12, 20))] {
            let im = try ImageCodec.decode(jpeg, path: "x.jpg", minimumSide: side)
            #expect(im.height == expected.0 && im.width == expected.1, "minimum side \(side): \(im.height)×\(im.width)")
        }
    }

    @Test func thePreScanNamesEachBrokenFileWithoutDecodingIt() throws {
        let dir = NSTemporaryDirectory() + "prescan-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fixtures = ImageFixture.directory + "/decoders/"
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: fixtures + "progressive.jpg"))
        let png = try Data(contentsOf: URL(fileURLWithPath: fixtures + "rgb-interlaced.png"))
        let cases: [(String, Data, String?)] = [
            ("a-good.jpg", jpeg, nil), ("b-good.png", png, nil),
            ("c-cut.jpg", jpeg.prefix(jpeg.count - 40), "no end-of-image marker"),
            ("d-cut.png", png.prefix(png.count - 20), "no IEND chunk"),
            ("e-empty.jpg", Data(), "empty file"),
            ("f-text.jpg", Data("hello, not a JPEG".utf8), "not a PNG or JPEG"),
            ("g-header-only.jpg", jpeg.prefix(30), "truncated"),
            ("h-bomb.jpg", try Data(contentsOf: URL(fileURLWithPath: fixtures + "bomb-progressive.jpg")), "size out of range"),
        ]
        for (name, data, _) in cases { FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: data) }
        let folder = try ImageFolder(dir)
        #expect(folder.count == cases.count && folder.channels == 3)
        for (i, (name, _, reason)) in cases.enumerated() {
            let found = folder.check(i, decode: false)
            if let reason { #expect(found?.contains(reason) == true, "\(name): \(found ?? "nil")") } else { #expect(found == nil, "\(name): \(found!)") }
            #expect((folder.check(i, decode: true) == nil) == (reason == nil), "\(name) decoded")
        }
        // The listing's fingerprint changes with a file's size and with its name, not with the order of listing.
        let before = folder.fingerprint()
        #expect(try ImageFolder(dir).fingerprint() == before)
        FileManager.default.createFile(atPath: "\(dir)/a-good.jpg", contents: jpeg + Data([0]))
        #expect(try ImageFolder(dir).fingerprint() != before)
    }
}
