import Foundation
import Testing

/// The checkpoint folder belongs to one job and one run: a second job is turned away while the first
/// holds it, a fresh run does not mix its checkpoints into another's, a resume does not silently
/// change the recipe, and what a dead job left half-written is swept.
extension LaunchSuites {
@Suite(.enabled(if: Launcher.hasMPI && FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")))
struct CheckpointDirectoryLaunchTests {
    let quick = ["--limit", "240", "--clusters", "5", "--batch-size", "48", "--kmeans-iters", "3", "--quiet"]

    func ourLines(_ r: Launcher.Result) -> [Substring] { r.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") } }

    @Test func aSecondJobIsTurnedAwayWhileTheFirstHoldsTheFolder() throws {
        let dir = Launcher.tempDir() + "/ck"
        let first = try Launcher.start(["train", "--epochs", "40", "--checkpoint-dir", dir] + quick, ranks: 2, timeout: 300)
        Launcher.waitForFile("\(dir)/epoch-0001/COMPLETE", seconds: 200, poll: 0.3)
        let second = try Launcher.run(["train", "--epochs", "2", "--checkpoint-dir", dir, "--resume"] + quick, ranks: 2, timeout: 60)
        #expect(second.status != 0)
        let lines = ourLines(second)
        #expect(lines.count == 1 && lines[0].contains("\(dir): in use by another job"), "\(second.stderr)")
        for pid in Launcher.liveProcesses(under: first.process.processIdentifier) { kill(Int32(pid)!, SIGKILL) }
        _ = first.finish()
        // The kernel dropped the dead job's lock: the folder can be resumed, and its half-written
        // temporaries are swept.
        try FileManager.default.createDirectory(atPath: "\(dir)/.incomplete-epoch-0009-deadhost-1", withIntermediateDirectories: true)
        let resumed = try Launcher.run(["train", "--epochs", "2", "--checkpoint-dir", dir, "--resume"] + quick, ranks: 2, timeout: 300)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".incomplete") || $0.hasPrefix(".replaced") }
        #expect(left.isEmpty, "\(left)")
    }

    @Test func aFreshRunInAUsedFolderIsRefusedAndLosesNothing() throws {
        let dir = Launcher.tempDir() + "/ck"
        let first = try Launcher.run(["train", "--epochs", "2", "--checkpoint-dir", dir] + quick, ranks: 2, timeout: 300)
        #expect(first.status == 0, "\(first.stderr)")
        let before = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        let again = try Launcher.run(["train", "--epochs", "1", "--checkpoint-dir", dir] + quick, ranks: 2, timeout: 60)
        #expect(again.status != 0)
        let lines = ourLines(again)
        #expect(lines.count == 1 && lines[0].contains("already holds checkpoints (newest epoch-0002)") && lines[0].contains("--resume"), "\(again.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == before)
    }

    @Test func aResumeThatChangesTheRecipeIsRefusedUnlessOverridden() throws {
        let dir = Launcher.tempDir() + "/ck"
        let first = try Launcher.run(["train", "--epochs", "1", "--checkpoint-dir", dir] + quick, ranks: 2, timeout: 300)
        #expect(first.status == 0, "\(first.stderr)")
        let changed = try Launcher.run(["train", "--epochs", "2", "--checkpoint-dir", dir, "--resume", "--lr", "0.1", "--seed", "5"] + quick,
                                       ranks: 2, timeout: 120)
        #expect(changed.status != 0)
        let lines = ourLines(changed)
        #expect(lines.count == 1 && lines[0].contains("--lr 0.05 → 0.1") && lines[0].contains("--seed 31 → 5")
                && lines[0].contains("--resume-override"), "\(changed.stderr)")
        let forced = try Launcher.run(["train", "--epochs", "2", "--checkpoint-dir", dir, "--resume", "--lr", "0.1", "--resume-override"]
                                      + quick.filter { $0 != "--quiet" }, ranks: 2, timeout: 300)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stdout.contains("--resume-override: continuing") && forced.stdout.contains("--lr 0.05 → 0.1"), "\(forced.stdout)")
    }

    /// Rank 0 takes longer to write a checkpoint than --collective-timeout (a slow filesystem): the
    /// others wait for it in a barrier the watchdog knows to follow a long local phase, and the job lives.
    @Test func aSlowCheckpointBeyondTheCollectiveTimeoutSparesTheJob() throws {
        let dir = Launcher.tempDir() + "/ck"
        // 12 s of writing against a 5 s timeout: well past the plain limit, well inside the patient one
        // (100 s), and 5 s is long enough that no other wait of a run this small reaches it on a busy
        // machine. The run's length shows that the delay happened.
        let r = try Launcher.run(["train", "--epochs", "1", "--checkpoint-dir", dir, "--collective-timeout", "5"] + quick,
                                 ranks: 2, timeout: 300, environment: ["DEEPCLUSTER_TEST_CHECKPOINT_DELAY": "12"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.seconds > 12, "took \(r.seconds) s: the delay did not happen")
        #expect(!r.stderr.contains("--collective-timeout"), "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/epoch-0001/COMPLETE"))
    }

    /// One rank killed with SIGKILL mid-training: the job ends non-zero within 30 s, no rank is left,
    /// and the last checkpoint still verifies (it resumes).
    @Test func aKilledRankEndsTheJobAndTheCheckpointSurvives() throws {
        let dir = Launcher.tempDir() + "/ck"
        let args = ["train", "--checkpoint-dir", dir, "--limit", "2000", "--clusters", "5", "--batch-size", "64", "--kmeans-iters", "3", "--quiet"]
        let job = try Launcher.start(args + ["--epochs", "50"], ranks: 2, timeout: 300)
        Launcher.waitForFile("\(dir)/epoch-0001/COMPLETE", seconds: 240, poll: 0.2)
        Thread.sleep(forTimeInterval: 1)
        let ranks = Launcher.liveProcesses(under: job.process.processIdentifier)
        #expect(ranks.count == 2)
        let killed = Date()
        if let one = ranks.last, let pid = Int32(one) { kill(pid, SIGKILL) }
        let r = job.finish()
        #expect(r.status != 0)
        #expect(Date().timeIntervalSince(killed) < 30, "took \(Date().timeIntervalSince(killed)) s")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(Launcher.liveProcesses().isEmpty, "left running: \(Launcher.liveProcesses())")
        let resumed = try Launcher.run(args + ["--epochs", "1", "--resume"], ranks: 2, timeout: 300)
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }

    @Test func aDamagedStateFileFallsBackToThePreviousCheckpoint() throws {
        let dir = Launcher.tempDir() + "/ck"
        let first = try Launcher.run(["train", "--epochs", "2", "--checkpoint-dir", dir] + quick, ranks: 2, timeout: 300)
        #expect(first.status == 0, "\(first.stderr)")
        // Still valid JSON, one value changed: only state.json's own CRC can tell.
        let path = "\(dir)/epoch-0002/state.json"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "\"global_step\" : ", with: "\"global_step\" : 1").write(toFile: path, atomically: true, encoding: .utf8)
        let resumed = try Launcher.run(["train", "--epochs", "3", "--checkpoint-dir", dir, "--resume"] + quick.filter { $0 != "--quiet" },
                                       ranks: 2, timeout: 300)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("epoch-0002/state.json: corrupt checkpoint: CRC-32"), "\(resumed.stdout)")
        #expect(resumed.stdout.contains("resumed from \(dir)/epoch-0001"), "\(resumed.stdout)")
    }
}
}
