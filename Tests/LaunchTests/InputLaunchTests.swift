import Foundation
import Testing

/// The input formats end to end on 2 ranks, and every kind of bad input a user can hand `deepcluster
/// train`: one line naming the file (and the image) and what was expected, a non-zero exit, no rank
/// left running.
extension LaunchSuites {
@Suite(.enabled(if: Launcher.hasMPI)) struct InputLaunchTests {
    /// The image fixtures of DatasetsTests (made with PIL by make_image_fixture.py).
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../DatasetsTests/Fixtures/folder").standardized.path

    func npy(_ bytes: [UInt8], dtype: String, shape: [Int]) -> Data { Launcher.npy(bytes, dtype: dtype, shape: shape) }

    func expectFailure(_ args: [String], mentions parts: [String]) throws {
        let r = try Launcher.run(["train", "--epochs", "1", "--clusters", "2", "--batch-size", "4", "--quiet"] + args, ranks: 2, timeout: 60)
        #expect(r.status != 0, "\(args): exit 0")
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") }
        #expect(lines.count == 1 && lines.allSatisfy { l in parts.allSatisfy { l.contains($0) } }, "\(args): \(r.stderr)")
    }

    @Test func eachBadInputEndsTheJobWithOneLine() throws {
        let dir = Launcher.tempDir()
        func write(_ name: String, _ d: Data) -> String {
            let p = "\(dir)/\(name)"
            try? FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: p, contents: d)
            return p
        }
        let pixels = [UInt8](repeating: 9, count: 8 * 28 * 28)
        // A missing path.
        try expectFailure(["--data", "\(dir)/nothing.npy"], mentions: ["\(dir)/nothing.npy: no such file"])
        // A wrong magic number.
        let magic = write("x-images-idx3-ubyte", Data([0, 0, 0x0d, 3] + [UInt8](repeating: 0, count: 20)))
        try expectFailure(["--data", magic, "--format", "idx"], mentions: [magic, "wrong magic number"])
        // A truncated gzip stream.
        var gz = Data([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])
        gz.append(contentsOf: [0x63, 0x60, 0x60, 0xe0])
        let truncated = write("t-images-idx3-ubyte.gz", gz)
        try expectFailure(["--data", truncated], mentions: [truncated, "corrupt gzip"])
        // A truncated IDX body.
        let short = write("s-images-idx3-ubyte", Data([0, 0, 8, 3, 0, 0, 0, 8, 0, 0, 0, 28, 0, 0, 0, 28] + pixels.prefix(1000)))
        try expectFailure(["--data", short], mentions: [short, "truncated"])
        // Images and labels that do not match in number; a labels file of the wrong length.
        let images = write("images.npy", npy(pixels, dtype: "|u1", shape: [8, 28, 28]))
        let labels = write("labels.npy", npy([UInt8](repeating: 1, count: 5), dtype: "|u1", shape: [5]))
        try expectFailure(["--data", images, "--labels", labels], mentions: [labels, "5 labels for 8 images"])
        let idxImages = write("m-images-idx3-ubyte", Data([0, 0, 8, 3, 0, 0, 0, 8, 0, 0, 0, 28, 0, 0, 0, 28] + pixels))
        let idxLabels = write("m-labels-idx1-ubyte", Data([0, 0, 8, 1, 0, 0, 0, 7] + [UInt8](repeating: 0, count: 7)))
        try expectFailure(["--data", idxImages], mentions: [idxLabels, "7 labels for 8 images"])
        // An undecodable image and a truncated one, named with their index.
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/shirt/d.jpeg"))
        for i in 0..<6 { _ = write("folder/c/\(i).jpg", jpeg) }
        _ = write("folder/c/3.jpg", jpeg.prefix(jpeg.count / 2))
        // Found mid-epoch when the pre-scan is off (--data-check none); by the pre-scan otherwise (ImageInputLaunchTests).
        try expectFailure(["--data", "\(dir)/folder", "--data-check", "none"], mentions: ["\(dir)/folder/c/3.jpg", "image 3", "Premature end of JPEG"])
        try expectFailure(["--data", "\(dir)/folder"], mentions: ["\(dir)/folder/c/3.jpg", "1 of 6 images cannot be read", "truncated"])
        _ = write("folder/c/3.jpg", Data("<html>not found</html>".utf8))
        try expectFailure(["--data", "\(dir)/folder", "--data-check", "none"], mentions: ["\(dir)/folder/c/3.jpg", "image 3", "not a PNG or JPEG"])
        // Images of different sizes with no resize.
        let png = try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/coat/a.png"))
        for i in 0..<6 { _ = write("sizes/\(i).png", png) }
        try expectFailure(["--data", "\(dir)/sizes", "--resize", "0"], mentions: ["\(dir)/sizes/", "(image ", "expected 28×28, got 20×24"])
        Thread.sleep(forTimeInterval: 0.5)
        #expect(Launcher.liveProcesses().isEmpty)
    }

    /// A .npy has no test split: eval's probe is scored on a seeded held-out part and trained on the
    /// rest (never on the images it is scored on); k-means still scores every image.
    @Test func anArrayWithoutATestSplitHoldsOutTheProbesImages() throws {
        let dir = Launcher.tempDir()
        let n = 60
        Launcher.writeStripedArrays(in: dir, count: n)
        let t = try Launcher.run(["train", "--data", "\(dir)/x.npy", "--epochs", "1", "--clusters", "3", "--batch-size", "20",
                                  "--pca-dim", "8", "--kmeans-iters", "3", "--checkpoint-dir", "\(dir)/ck", "--quiet"], timeout: 120)
        #expect(t.status == 0, "\(t.stderr)")
        for (fraction, held) in [(nil, 12), ("0.5", 30)] as [(String?, Int)] {
            let e = try Launcher.run(["eval", "--checkpoint", "\(dir)/ck", "--data", "\(dir)/x.npy", "--labels", "\(dir)/y.npy",
                                      "--probe-epochs", "1", "--kmeans-restarts", "1", "--pca-dim", "8", "--json"]
                                     + (fraction.map { ["--probe-holdout", $0] } ?? []), ranks: 2, timeout: 120)
            #expect(e.status == 0, "\(e.stderr)")
            let j = Launcher.json(e.lines.last ?? "")
            #expect(j["probe_test"] as? String == "held_out", "\(e.stdout)")
            #expect(j["test_images"] as? Int == held && j["probe_train_images"] as? Int == n - held && j["images"] as? Int == n)
        }
        let bad = try Launcher.run(["eval", "--checkpoint", "\(dir)/ck", "--probe-holdout", "1"], timeout: 60)
        #expect(bad.status != 0 && bad.stderr.contains("--probe-holdout"), "\(bad.stderr)")
    }

    @Test func aFolderOfImagesTrainsAndResizes() throws {
        let dir = Launcher.tempDir()
        for (i, name) in ["coat/a.png", "coat/b.jpg", "coat/nested/c.png", "shirt/d.jpeg", "shirt/e.png", "shirt/f_rgba.png"].enumerated() {
            for copy in 0..<4 {
                let sub = "\(dir)/\(i % 2)"
                try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: Self.fixtures + "/" + name, toPath: "\(sub)/\(copy)-\((name as NSString).lastPathComponent)")
            }
        }
        let r = try Launcher.run(["train", "--data", dir, "--epochs", "2", "--clusters", "3", "--batch-size", "8", "--metrics", "\(dir)/m.jsonl",
                                  "--workers", "2"], ranks: 2, timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        let records = try String(contentsOfFile: "\(dir)/m.jsonl", encoding: .utf8).split(separator: "\n").map { Launcher.json(String($0)) }
        #expect(records.count == 2 && records.allSatisfy { $0["nmi_labels"] is Double && $0["images"] as? Int == 24 })
    }

    @Test func cifarBatchesTrainTheColourModel() throws {
        let dir = Launcher.tempDir() + "/cifar-10-batches-bin"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for b in 1...5 {
            var d = Data()
            for i in 0..<8 {
                d.append(UInt8((b + i) % 10))
                d.append(contentsOf: (0..<3072).map { UInt8(($0 * (i + 3) + b * 17) % 256) })
            }
            FileManager.default.createFile(atPath: "\(dir)/data_batch_\(b).bin", contents: d)
        }
        let r = try Launcher.run(["train", "--data", dir, "--arch", "cifar-alexnet", "--epochs", "1", "--clusters", "4",
                                  "--pca-dim", "8", "--batch-size", "8", "--kmeans-iters", "3", "--metrics", "\(dir)/m.jsonl"], ranks: 2, timeout: 240)
        #expect(r.status == 0, "\(r.stderr)")
        let rec = Launcher.json(try String(contentsOfFile: "\(dir)/m.jsonl", encoding: .utf8).split(separator: "\n").first.map(String.init) ?? "")
        #expect(rec["images"] as? Int == 40 && rec["nmi_labels"] is Double)
    }
}
}

/// Fashion-MNIST's own folder, as Debian installs it, is read as IDX: its train split for training,
/// its t10k split for eval's probe; a truncated file in such a folder is named in the error.
extension LaunchSuites {
@Suite(.enabled(if: Launcher.hasMPI && FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")))
struct IDXFolderLaunchTests {
    @Test func theDefaultDatasetsFolderTrainsAndEvaluates() throws {
        let dir = Launcher.tempDir()
        let r = try Launcher.run(["train", "--data", "/usr/share/datasets/fashion-mnist", "--limit", "400", "--epochs", "1",
                                  "--clusters", "5", "--batch-size", "50", "--checkpoint-dir", "\(dir)/ck"], ranks: 2, timeout: 300)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("400"), "\(r.stdout)")
        let e = try Launcher.run(["eval", "--checkpoint", "\(dir)/ck", "--data", "/usr/share/datasets/fashion-mnist", "--limit", "400",
                                  "--test-limit", "200", "--probe-epochs", "1", "--kmeans-restarts", "1", "--json"], ranks: 2, timeout: 300)
        #expect(e.status == 0, "\(e.stderr)")
        let j = Launcher.json(e.lines.last ?? "")
        #expect(j["test_images"] as? Int == 200, "\(e.stdout)")
        #expect(j["kmeans_nmi"] is Double)
    }

    @Test func aTruncatedFileInTheFolderIsNamed() throws {
        let dir = Launcher.tempDir() + "/fmnist"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let source = "/usr/share/datasets/fashion-mnist"
        for name in ["train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try FileManager.default.copyItem(atPath: "\(source)/\(name)", toPath: "\(dir)/\(name)")
        }
        let whole = try Data(contentsOf: URL(fileURLWithPath: "\(source)/train-images-idx3-ubyte.gz"))
        let images = "\(dir)/train-images-idx3-ubyte.gz"
        FileManager.default.createFile(atPath: images, contents: whole.prefix(whole.count / 2))
        let r = try Launcher.run(["train", "--data", dir, "--epochs", "1", "--clusters", "2", "--quiet"], ranks: 2, timeout: 120)
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") }
        #expect(lines.count == 1 && lines.allSatisfy { $0.contains(images) }, "\(r.stderr)")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(Launcher.liveProcesses().isEmpty, "left running: \(Launcher.liveProcesses())")
    }
}
}
