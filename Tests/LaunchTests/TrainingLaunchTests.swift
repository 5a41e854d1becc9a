import Foundation
import Testing

/// End-to-end `deepcluster train` on Fashion-MNIST (when the Debian package is installed).
extension LaunchSuites {
@Suite(.enabled(if: Launcher.hasMPI && FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))) struct TrainingLaunchTests {
    let quick = ["--limit", "600", "--clusters", "10", "--batch-size", "64", "--kmeans-iters", "5"]

    func model(_ dir: String, epoch: Int) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: "\(dir)/epoch-\(String(format: "%04d", epoch))/model.safetensors"))
    }

    @Test func twoRanksTrainEpochsAndWriteTheContract() throws {
        let dir = Launcher.tempDir()
        let r = try Launcher.run(["train", "--epochs", "2", "--metrics", "\(dir)/m.jsonl", "--checkpoint-dir", "\(dir)/ck"] + quick, ranks: 2, timeout: 300)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try String(contentsOfFile: "\(dir)/m.jsonl", encoding: .utf8).split(separator: "\n").map { Launcher.json(String($0)) }
        #expect(lines.count == 2)
        #expect(lines[0]["nmi_prev"] is NSNull)
        #expect((lines[1]["nmi_prev"] as? Double ?? -1) >= 0)
        for l in lines {
            #expect(l["ranks"] as? Int == 2)
            #expect((l["nmi_labels"] as? Double ?? -1) > 0)
            #expect(l["ari_labels"] is Double && l["loss"] is Double && l["images_per_s"] is Double)
            let s = l["seconds"] as? [String: Double] ?? [:]
            #expect(s["extract"] != nil && s["cluster"] != nil && s["train"] != nil)
        }
        #expect(FileManager.default.fileExists(atPath: "\(dir)/ck/epoch-0002/COMPLETE"))
        #expect(r.stdout.contains("epoch   1"))
    }

    @Test func resumedRunEndsBitIdenticalToAnUninterruptedOne() throws {
        let dir = Launcher.tempDir()
        let full = try Launcher.run(["train", "--epochs", "3", "--checkpoint-dir", "\(dir)/full", "--quiet"] + quick, ranks: 2, timeout: 300)
        #expect(full.status == 0, "\(full.stderr)")
        let part = try Launcher.run(["train", "--epochs", "2", "--checkpoint-dir", "\(dir)/part", "--quiet"] + quick, ranks: 2, timeout: 300)
        #expect(part.status == 0, "\(part.stderr)")
        let resumed = try Launcher.run(["train", "--epochs", "3", "--checkpoint-dir", "\(dir)/part", "--resume"] + quick, ranks: 2, timeout: 300)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("resumed from"))
        #expect(try model("\(dir)/full", epoch: 3) == model("\(dir)/part", epoch: 3))
    }

    @Test func corruptNewestCheckpointFallsBackToThePreviousOne() throws {
        let dir = Launcher.tempDir()
        let r = try Launcher.run(["train", "--epochs", "2", "--checkpoint-dir", dir, "--quiet"] + quick, timeout: 300)
        #expect(r.status == 0, "\(r.stderr)")
        let path = "\(dir)/epoch-0002/model.safetensors"
        var d = try Data(contentsOf: URL(fileURLWithPath: path))
        d[d.count - 3] ^= 0xff
        try d.write(to: URL(fileURLWithPath: path))
        let resumed = try Launcher.run(["train", "--epochs", "3", "--checkpoint-dir", dir, "--resume"] + quick, timeout: 300)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("epoch-0002/model.safetensors: corrupt checkpoint: CRC-32"))
        #expect(resumed.stdout.contains("resumed from \(dir)/epoch-0001"))
    }

    @Test func userErrorsEndWithOneLineOnEveryRank() throws {
        let missing = try Launcher.run(["train", "--data", "/nonexistent/images.gz", "--epochs", "1"], ranks: 2, timeout: 60)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("/nonexistent/images.gz: no such file or directory"))
        let dir = Launcher.tempDir()
        let bad = "\(dir)/bad-images-idx3-ubyte.gz"
        FileManager.default.createFile(atPath: bad, contents: Data([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]))
        let corrupt = try Launcher.run(["train", "--data", bad, "--epochs", "1"], ranks: 2, timeout: 60)
        #expect(corrupt.status != 0 && corrupt.stderr.contains("corrupt gzip"))
        let arch = try Launcher.run(["train", "--arch", "alexnet", "--epochs", "1", "--limit", "100"], timeout: 60)
        #expect(arch.status != 0 && arch.stderr.contains("takes 3×224×224 images"))
        Thread.sleep(forTimeInterval: 0.5)
        #expect(Launcher.liveProcesses().isEmpty)
    }
}
}
