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
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(out)/two/features.npy")) == Data(contentsOf: URL(fileURLWithPath: "\(out)/one/features.npy")))
        // One checkpoint named directly that a rank cannot read: one line, not two models.
        let direct = try Launcher.runPerRank([["extract", "--checkpoint", "\(a)/ck/epoch-0002"] + tail, ["extract", "--checkpoint", "\(b)/ck/epoch-0002"] + tail], timeout: 120)
        let lines = direct.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") }
        #expect(direct.status != 0 && lines.count == 1 && lines[0].contains("cannot be read on rank 1"), "\(direct.stderr)")
    }
}
}
