import Foundation
import Testing

extension LaunchSuites {
/// Stop signals in every phase. The signal comes from the trainer's test hook
/// (DEEPCLUSTER_TEST_RAISE=SIGNALS:PHASE:COUNT:EPOCH:RANK): one rank raises it on itself at a known
/// safe point, through the handlers the run installed, so each test knows where it arrived instead of
/// guessing from the clock. Only that rank is signalled: the request travels in an allreduce, and
/// every rank must stop at the same point.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")))
struct StopSignalLaunchTests {
    static let train = ["train", "--limit", "4096", "--clusters", "10", "--batch-size", "256", "--kmeans-iters", "6"]

    /// What a scheduler does before a time limit (SIGUSR1): every rank finishes the same step, rank 0
    /// writes a checkpoint inside the epoch, all exit 0; --resume goes on from that step.
    @Test func aStopInsideTheEpochCheckpointsThatStepAndResumes() throws {
        let dir = Launcher.tempDir()
        let args = Self.train + ["--checkpoint-dir", dir]
        let r = try Launcher.run(args + ["--epochs", "4"], ranks: 2, timeout: 300, environment: ["DEEPCLUSTER_TEST_RAISE": "usr1:step:5:1:1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("stop requested: stopped inside epoch 1"), "\(r.stdout)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(names.contains("epoch-0001-step-000005"), "\(names)")
        #expect(!names.contains("epoch-0002"))
        let resumed = try Launcher.run(args + ["--epochs", "2", "--resume"], ranks: 2, timeout: 300)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("inside epoch 1 after 5 steps"), "\(resumed.stdout)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/epoch-0002/COMPLETE"))
    }

    /// Inside extraction, PCA and k-means the job stops at the very batch, block or iteration the
    /// signal arrived in (not at the end of the phase), exits 0, and the last checkpoint is the one
    /// --resume continues from.
    @Test(arguments: [("extraction", "batch", 2), ("pca", "block", 1), ("k-means", "iteration", 2)])
    func aStopInsideAPhaseEndsAtThatBatchOrIteration(phase: String, unit: String, count: Int) throws {
        let dir = Launcher.tempDir()
        let args = Self.train + ["--checkpoint-dir", dir]
        let r = try Launcher.run(args + ["--epochs", "4"], ranks: 2, timeout: 300,
                                 environment: ["DEEPCLUSTER_TEST_RAISE": "usr1:\(phase):\(count):1:1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("stop requested: stopped in epoch 1 during \(phase) (\(unit) \(count) of "), "\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/epoch-0001/COMPLETE"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/epoch-0002"))
        if phase == "extraction" {
            let resumed = try Launcher.run(args + ["--epochs", "2", "--resume", "--quiet"], ranks: 2, timeout: 300)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(FileManager.default.fileExists(atPath: "\(dir)/epoch-0002/COMPLETE"))
        }
    }

    /// The k-NN monitor (--knn-every) runs after the epoch's checkpoint: a stop inside its extraction
    /// ends the monitor at that batch, the epoch's record goes out without its k-NN figure, and the run
    /// stops with that checkpoint the newest.
    @Test func aStopDuringTheKNNMonitorEndsTheRunAtTheEpochsCheckpoint() throws {
        let dir = Launcher.tempDir()
        let args = Self.train + ["--checkpoint-dir", "\(dir)/ck", "--knn-every", "1", "--metrics", "\(dir)/m.jsonl"]
        let r = try Launcher.run(args + ["--epochs", "4"], ranks: 2, timeout: 300, environment: ["DEEPCLUSTER_TEST_RAISE": "usr1:knn:2:0:1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("stop requested: stopped at the end of epoch 0"), "\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/ck/epoch-0001/COMPLETE"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/ck/epoch-0002"))
        let lines = try String(contentsOfFile: "\(dir)/m.jsonl", encoding: .utf8).split(separator: "\n").map { Launcher.json(String($0)) }
        #expect(lines.count == 1 && lines[0]["knn_top1"] == nil && lines[0]["loss"] is Double, "\(lines)")
    }

    /// DeepCluster-v2: the memory bank's first fill and the prototypes' k-means stop the same way.
    @Test(arguments: [("bank fill", "step", 2, 0), ("k-means", "iteration", 3, 1)])
    func aStopInsideDeepClusterV2sPhases(phase: String, unit: String, count: Int, epoch: Int) throws {
        let dir = Launcher.tempDir()
        let r = try Launcher.run(["train", "--method", "deepcluster-v2", "--limit", "2048", "--clusters", "10", "--batch-size", "256",
                                  "--kmeans-iters", "3", "--epochs", "3", "--checkpoint-dir", dir], ranks: 2, timeout: 300,
                                 environment: ["DEEPCLUSTER_TEST_RAISE": "usr1:\(phase):\(count):\(epoch):1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("stop requested: stopped in epoch \(epoch) during \(phase) (\(unit) \(count) of "), "\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/epoch-0001/COMPLETE") == (epoch == 1))
    }

    /// A stop while the ranks read the checkpoint to resume: exit 0, nothing changed.
    @Test func aStopWhileResumingChangesNothing() throws {
        let dir = Launcher.tempDir()
        let args = ["train", "--limit", "600", "--clusters", "10", "--batch-size", "100", "--kmeans-iters", "3", "--checkpoint-dir", dir]
        let first = try Launcher.run(args + ["--epochs", "1", "--quiet"], ranks: 2, timeout: 300)
        #expect(first.status == 0, "\(first.stderr)")
        let r = try Launcher.run(args + ["--epochs", "3", "--resume"], ranks: 2, timeout: 300,
                                 environment: ["DEEPCLUSTER_TEST_RAISE": "usr1:resume:1:*:1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("stop requested: stopped during resume (checkpoint read 1 of 1) while resuming; nothing changed"), "\(r.stdout)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/epoch-0002"))
    }

    /// SLURM's time limit: SIGUSR1 ahead of it, then SIGTERM at the limit. The TERM is the same stop,
    /// not a second signal: the job still stops cleanly at the next safe point and exits 0.
    @Test func aTerminateAfterUSR1IsTheSameStop() throws {
        let dir = Launcher.tempDir()
        let r = try Launcher.run(Self.train + ["--checkpoint-dir", dir, "--epochs", "4"], ranks: 2, timeout: 300,
                                 environment: ["DEEPCLUSTER_TEST_RAISE": "usr1+term:k-means:2:1:1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("stop requested: stopped in epoch 1 during k-means (iteration 2 of "), "\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/epoch-0001/COMPLETE"))
    }

    /// A second signal of the same kind (TERM, TERM) ends the rank at once, and mpirun takes down the rest.
    @Test func aSecondSignalEndsAtOnce() throws {
        let dir = Launcher.tempDir()
        let job = try Launcher.start(Self.train + ["--checkpoint-dir", dir, "--epochs", "4"], ranks: 2, timeout: 300,
                                     environment: ["DEEPCLUSTER_TEST_RAISE": "term+term:extraction:2:1:1"])
        let r = job.finish()
        #expect(r.status != 0)
        #expect(!r.stdout.contains("stop requested"), "\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/epoch-0001/COMPLETE"))
        Thread.sleep(forTimeInterval: 0.5)
        #expect(Launcher.liveProcesses().isEmpty, "left running: \(Launcher.liveProcesses())")
    }
}
}
