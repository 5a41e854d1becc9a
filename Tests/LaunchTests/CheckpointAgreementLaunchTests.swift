import Foundation
import Testing

/// eval, extract, assign and gallery open the same checkpoint on every rank: a folder being pruned by a
/// training job, or seen through an NFS cache, cannot give two ranks two epochs.
extension LaunchSuites {
@Suite(.enabled(if: Launcher.hasMPI)) struct CheckpointAgreementLaunchTests {
    @Test func extractReadsOneCheckpointOnEveryRank() throws {
        let a = Launcher.tempDir(), b = Launcher.tempDir()
        let t = try Launcher.run(["train", "--epochs", "2", "--limit", "240", "--clusters", "5", "--batch-size", "48", "--kmeans-iters", "3",
                                  "--checkpoint-dir", "\(a)/ck", "--quiet"], ranks: 2, timeout: 300)
        #expect(t.status == 0, "\(t.stderr)")
        // Rank 1's copy of the folder has a damaged newest checkpoint (a node-local disk, a half-synced cache).
        try FileManager.default.copyItem(atPath: "\(a)/ck", toPath: "\(b)/ck")
        let damaged = "\(b)/ck/epoch-0002/model.safetensors"
        try Launcher.damage(damaged)
        let out = Launcher.tempDir()
        let tail = ["--limit", "240", "--out", "\(out)/two"]
        let r = try Launcher.runPerRank([["extract", "--checkpoint", "\(a)/ck"] + tail, ["extract", "--checkpoint", "\(b)/ck"] + tail], timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("epoch-0002 cannot be read on rank 1; every rank falls back"), "\(r.stdout)")
        // Every row comes from epoch 1's model: the same file as one rank extracting epoch 1.
        let one = try Launcher.run(["extract", "--checkpoint", "\(a)/ck/epoch-0001", "--limit", "240", "--out", "\(out)/one"], ranks: 1, timeout: 120)
        #expect(one.status == 0, "\(one.stderr)")
        // (Equal to rounding: oneDNN may choose another kernel for a batch of 240 than for two of 120 —
        // it does on AVX2 — while epoch 2's model gives features that differ a thousand times more.)
        let two = try Launcher.float32s("\(out)/two/features.npy"), single = try Launcher.float32s("\(out)/one/features.npy")
        #expect(two.count == 240 * (single.count / 240) && Launcher.largestDifference(two, single) < 1e-6,
                "largest difference \(Launcher.largestDifference(two, single))")
        let newer = try Launcher.run(["extract", "--checkpoint", "\(a)/ck/epoch-0002", "--limit", "240", "--out", "\(out)/newer"], ranks: 1, timeout: 120)
        #expect(newer.status == 0, "\(newer.stderr)")
        #expect(Launcher.largestDifference(two, try Launcher.float32s("\(out)/newer/features.npy")) > 1e-3)
        // One checkpoint named directly that a rank cannot read: one line, not two models.
        let direct = try Launcher.runPerRank([["extract", "--checkpoint", "\(a)/ck/epoch-0002"] + tail, ["extract", "--checkpoint", "\(b)/ck/epoch-0002"] + tail], timeout: 120)
        let lines = direct.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") }
        #expect(direct.status != 0 && lines.count == 1 && lines[0].contains("cannot be read on rank 1"), "\(direct.stderr)")
    }

    /// A signal while the ranks write features.npy ends the job and leaves no features.npy.partial
    /// (at ImageNet size 21 GB) behind; features.npy is not created.
    @Test func aSignalDuringTheWriteLeavesNoPartialFile() throws {
        let dir = Launcher.tempDir()
        let t = try Launcher.run(["train", "--limit", "120", "--epochs", "1", "--clusters", "4", "--batch-size", "40", "--kmeans-iters", "2",
                                  "--checkpoint-dir", "\(dir)/ck", "--quiet"], ranks: 1, timeout: 120)
        #expect(t.status == 0, "\(t.stderr)")
        let r = try Launcher.run(["extract", "--checkpoint", "\(dir)/ck", "--limit", "120", "--out", "\(dir)/out"], ranks: 2, timeout: 120,
                                 environment: ["DEEPCLUSTER_TEST_RAISE": "term:array write:1:*:1"])
        #expect(r.status != 0)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/out")) ?? []
        #expect(!left.contains("features.npy.partial") && !left.contains("features.npy"), "\(left)")
    }
}
}
