import Foundation
import Testing

/// Findings of the second reliability pass that a user meets at start-up or in eval.
extension LaunchSuites {
@Suite(.enabled(if: Launcher.hasMPI)) struct ReliabilityLaunchTests {
    /// Labels 1…3 (as STL-10's 1…10) are three classes: eval clusters into k = 3, not 4.
    @Test func evalCountsDistinctLabelsNotTheLargestPlusOne() throws {
        let dir = Launcher.tempDir()
        Launcher.writeStripedArrays(in: dir, count: 60, firstLabel: 1)
        let t = try Launcher.run(["train", "--data", "\(dir)/x.npy", "--epochs", "1", "--clusters", "3", "--batch-size", "20",
                                  "--pca-dim", "8", "--kmeans-iters", "3", "--checkpoint-dir", "\(dir)/ck", "--quiet"], timeout: 120)
        #expect(t.status == 0, "\(t.stderr)")
        let e = try Launcher.run(["eval", "--checkpoint", "\(dir)/ck", "--data", "\(dir)/x.npy", "--labels", "\(dir)/y.npy", "--probe-epochs", "1",
                                  "--kmeans-restarts", "1", "--pca-dim", "8", "--umap-neighbours", "0", "--json"], ranks: 2, timeout: 120)
        #expect(e.status == 0, "\(e.stderr)")
        let j = Launcher.json(e.lines.last ?? "")
        #expect(j["classes"] as? Int == 3, "\(e.stdout)")
    }

    /// The accuracy's matching is O(k³), minutes at thousands of classes, on rank 0 alone: the other
    /// ranks wait for it under the watchdog's longer limit, not its plain --collective-timeout. (The
    /// test hook makes rank 0's scoring last 3 s against a 1 s timeout.)
    @Test func theOtherRanksWaitPatientlyForRankZerosMatching() throws {
        let dir = Launcher.tempDir()
        Launcher.writeStripedArrays(in: dir, count: 60)
        let t = try Launcher.run(["train", "--data", "\(dir)/x.npy", "--epochs", "1", "--clusters", "3", "--batch-size", "20",
                                  "--pca-dim", "8", "--kmeans-iters", "3", "--checkpoint-dir", "\(dir)/ck", "--quiet"], timeout: 120)
        #expect(t.status == 0, "\(t.stderr)")
        let e = try Launcher.run(["eval", "--checkpoint", "\(dir)/ck", "--data", "\(dir)/x.npy", "--labels", "\(dir)/y.npy", "--probe-epochs", "1",
                                  "--kmeans-restarts", "1", "--pca-dim", "8", "--umap-neighbours", "0", "--json"], ranks: 2, timeout: 180,
                                 environment: ["DEEPCLUSTER_COLLECTIVE_TIMEOUT": "1", "DEEPCLUSTER_TEST_SCORING_SECONDS": "3"])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(!e.stderr.contains("has waited"), "\(e.stderr)")
        #expect(Launcher.json(e.lines.last ?? "")["classes"] as? Int == 3, "\(e.stdout)")
    }

    /// A memory bank too large for MPI_Gatherv's Int32 displacements is refused at start-up, in one
    /// line, not at the first checkpoint after a whole epoch.
    @Test func aMemoryBankTooLargeToGatherIsRefusedAtStartUp() throws {
        let r = try Launcher.run(["train", "--method", "deepcluster-v2", "--embedding-dim", "65536", "--epochs", "1", "--quiet"], ranks: 2, timeout: 60)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") }
        #expect(r.status != 0 && r.seconds < 30 && lines.count == 1 && lines[0].contains("more than a checkpoint can gather"), "\(r.stderr)")
    }

    /// A COMPLETE marker of another shape is damage, not a reason to skip state.json's CRC; a malformed
    /// --config names the field instead of printing Swift's DecodingError.
    @Test func aDamagedMarkerOrConfigIsNamedInOneLine() throws {
        let dir = Launcher.tempDir()
        let t = try Launcher.run(["train", "--limit", "120", "--epochs", "1", "--clusters", "4", "--batch-size", "40", "--kmeans-iters", "2",
                                  "--checkpoint-dir", "\(dir)/ck", "--quiet"], ranks: 2, timeout: 120)
        #expect(t.status == 0, "\(t.stderr)")
        let ck = "\(dir)/ck/epoch-0001"
        var state = try String(contentsOfFile: "\(ck)/state.json", encoding: .utf8)
        state = state.replacingOccurrences(of: "\"seed\" : 31", with: "\"seed\" : 32")
        try state.write(toFile: "\(ck)/state.json", atomically: true, encoding: .utf8)
        try "ok state.json 12x\n".write(toFile: "\(ck)/COMPLETE", atomically: true, encoding: .utf8)
        let r = try Launcher.run(["extract", "--checkpoint", ck, "--limit", "120", "--out", "\(dir)/x"], ranks: 2, timeout: 60)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") }
        #expect(r.status != 0 && lines.count == 1 && lines[0].contains("COMPLETE") && lines[0].contains("not a marker"), "\(r.stderr)")
        try "{\"epochs\": \"many\"}".write(toFile: "\(dir)/config.json", atomically: true, encoding: .utf8)
        let c = try Launcher.run(["train", "--config", "\(dir)/config.json"], ranks: 2, timeout: 60)
        let cl = c.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") }
        #expect(c.status != 0 && cl.count == 1 && cl[0].contains("expected Int at epochs") && !c.stderr.contains("DecodingError"), "\(c.stderr)")
    }
}
}
