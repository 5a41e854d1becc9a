import Foundation
import Testing

/// Real photographs' files on 2 ranks: every kind of JPEG and PNG a collection holds decodes; each
/// file that cannot (truncated, empty, not an image, a decompression bomb) and a truncated tar shard
/// are named at once by the pre-scan, before training; ranks that see different folders stop with
/// one line. No rank is left behind.
extension LaunchSuites {
@Suite(.enabled(if: Launcher.hasMPI)) struct ImageInputLaunchTests {
    /// The decoder and shard fixtures of DatasetsTests (make_decoder_fixture.py, make_shard_fixture.py).
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../DatasetsTests/Fixtures").standardized.path
    static let good = ["cmyk-adobe.jpg", "ycck-adobe.jpg", "progressive.jpg", "grey.jpg", "rgb-16bit.png", "grey-16bit.png",
                       "palette-4bit-trns.png", "grey-alpha.png", "rgb-interlaced.png", "subsampling-444.jpg"]

    /// A class folder of the good kinds (twice each) and, when `bad`, the five broken files.
    func folder(bad: Bool) throws -> (dir: String, broken: [String]) {
        let dir = Launcher.tempDir() + "/photos"
        for c in ["a", "b"] { try FileManager.default.createDirectory(atPath: "\(dir)/\(c)", withIntermediateDirectories: true) }
        for (i, name) in Self.good.enumerated() {
            for copy in 0..<2 {
                try FileManager.default.copyItem(atPath: "\(Self.fixtures)/decoders/\(name)", toPath: "\(dir)/\(["a", "b"][(i + copy) % 2])/\(copy)-\(name)")
            }
        }
        guard bad else { return (dir, []) }
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: "\(Self.fixtures)/decoders/progressive.jpg"))
        let files: [(String, Data)] = [
            ("a/truncated.jpg", jpeg.prefix(jpeg.count - 60)), ("a/zero.jpg", Data()), ("b/text.jpg", Data("<html>404</html>".utf8)),
            ("b/bomb.jpg", try Data(contentsOf: URL(fileURLWithPath: "\(Self.fixtures)/decoders/bomb-progressive.jpg"))),
            ("b/cut.png", try Data(contentsOf: URL(fileURLWithPath: "\(Self.fixtures)/decoders/rgb-interlaced.png")).prefix(100)),
        ]
        for (name, data) in files { FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: data) }
        return (dir, files.map { "\(dir)/\($0.0)" })
    }

    @Test func everyBrokenFileIsNamedAtOnceAndTheRestDecodes() throws {
        let (dir, broken) = try folder(bad: true)
        // check-data decoding everything: exactly the broken ones, each named; the bomb costs no memory.
        let check = try Launcher.run(["check-data", "--data", dir, "--decode", "--json"], ranks: 2, timeout: 120)
        #expect(check.status == 1, "\(check.stderr)")
        let j = Launcher.json(check.lines.last ?? "")
        let named = ((j["problems"] as? [[String: Any]]) ?? []).compactMap { $0["location"] as? String }
        #expect(Set(named) == Set(broken), "\(check.stdout)")
        #expect(j["images"] as? Int == 2 * Self.good.count + broken.count)
        let peak = j["peak_rss_bytes"] as? Int ?? .max
        #expect(peak < 200 << 20, "peak RSS \(peak) bytes")
        // train refuses, naming all five before any work, in one line on stderr and one line each on stdout.
        let r = try Launcher.run(["train", "--data", dir, "--epochs", "1", "--clusters", "2", "--batch-size", "8", "--quiet"], ranks: 2, timeout: 120)
        #expect(r.status != 0)
        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") }
        #expect(errors.count == 1 && errors[0].contains("5 of 25 images cannot be read") && errors[0].contains("--skip-unreadable"), "\(r.stderr)")
        for path in broken { #expect(r.stdout.contains("unreadable: \(path): "), "\(path) not named: \(r.stdout)") }
        #expect(r.stdout.contains("bomb.jpg: JPEG size out of range"))
        // --skip-unreadable trains on the other 20, with the count in the metrics and the checkpoint.
        let ok = try Launcher.run(["train", "--data", dir, "--epochs", "1", "--clusters", "2", "--batch-size", "8", "--skip-unreadable",
                                   "--metrics", "\(dir)/../m.jsonl", "--checkpoint-dir", "\(dir)/../ck", "--quiet"], ranks: 2, timeout: 180)
        #expect(ok.status == 0, "\(ok.stderr)")
        let rec = Launcher.json(try String(contentsOfFile: "\(dir)/../m.jsonl", encoding: .utf8).split(separator: "\n").first.map(String.init) ?? "")
        #expect(rec["images"] as? Int == 20 && rec["unreadable_images"] as? Int == 5, "\(rec)")
        let state = try String(contentsOfFile: "\(dir)/../ck/epoch-0001/state.json", encoding: .utf8)
        #expect(state.contains("\"unreadable_images\" : 5"))
        // extract goes on without them too, and says which image each row is.
        let x = try Launcher.run(["extract", "--checkpoint", "\(dir)/../ck", "--data", dir, "--out", "\(dir)/../x", "--skip-unreadable"], ranks: 2, timeout: 120)
        #expect(x.status == 0 && FileManager.default.fileExists(atPath: "\(dir)/../x/indices.npy"), "\(x.stderr)")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(Launcher.liveProcesses().isEmpty)
    }

    @Test func aTruncatedTarShardIsNamed() throws {
        let dir = Launcher.tempDir() + "/shards"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for i in 0..<2 { try FileManager.default.copyItem(atPath: "\(Self.fixtures)/shards/shard-00000\(i).tar", toPath: "\(dir)/shard-00000\(i).tar") }
        let whole = try Launcher.run(["check-data", "--data", "\(dir)/shard-{000000..000001}.tar"], ranks: 2, timeout: 60)
        #expect(whole.status == 0 && whole.stdout.contains("5 images (tar shards (2 shard(s), labels from .cls)), 0 unreadable"), "\(whole.stdout)\(whole.stderr)")
        try FileManager.default.copyItem(atPath: "\(Self.fixtures)/broken/cut.tar", toPath: "\(dir)/shard-000003.tar")
        let r = try Launcher.run(["train", "--data", dir, "--epochs", "1", "--clusters", "2", "--batch-size", "4", "--quiet"], ranks: 2, timeout: 120)
        #expect(r.status != 0)
        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") }
        #expect(errors.count == 1 && errors[0].contains("1 problem with the listing") && errors[0].contains("\(dir)/shard-000003.tar: truncated"), "\(r.stderr)")
        let skip = try Launcher.run(["train", "--data", dir, "--epochs", "1", "--clusters", "2", "--batch-size", "4", "--skip-unreadable",
                                     "--quiet"], ranks: 2, timeout: 180)
        #expect(skip.status == 0, "\(skip.stderr)")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(Launcher.liveProcesses().isEmpty)
    }

    @Test func ranksThatSeeDifferentFoldersStopWithOneLine() throws {
        let (dir, _) = try folder(bad: false)
        for i in 0..<5 {   // 25 images on one rank, 24 on the other
            try FileManager.default.copyItem(atPath: "\(Self.fixtures)/decoders/progressive.jpg", toPath: "\(dir)/b/extra-\(i).jpg")
        }
        let partial = Launcher.tempDir() + "/partial"
        try FileManager.default.copyItem(atPath: dir, toPath: partial)
        try FileManager.default.removeItem(atPath: "\(partial)/a/0-cmyk-adobe.jpg")
        let args = ["train", "--epochs", "1", "--clusters", "2", "--batch-size", "8", "--quiet"]
        let r = try Launcher.runPerRank([args + ["--data", dir], args + ["--data", partial]], timeout: 60)
        #expect(r.status != 0)
        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") }
        #expect(errors.count == 1 && errors[0].contains("rank 0") && errors[0].contains("25 images")
                && errors[0].contains("rank 1") && errors[0].contains("24 images"), "\(r.stderr)")
        // The same count with another file in place of one: the listing's fingerprint differs.
        try FileManager.default.copyItem(atPath: "\(dir)/a/1-grey.jpg", toPath: "\(partial)/a/0-cmyk-adobe.jpg")
        let same = try Launcher.runPerRank([args + ["--data", dir], args + ["--data", partial]], timeout: 60)
        let lines = same.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") }
        #expect(same.status != 0 && lines.count == 1 && lines[0].contains("same count, other names or sizes"), "\(same.stderr)")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(Launcher.liveProcesses().isEmpty)
    }
}
}
