import Foundation
import Testing

extension LaunchSuites {
/// Launch/slurm.sbatch and Launch/pbs.sh as their scheduler runs them, with stand-ins for srun,
/// mpirun, scontrol and qrerun (one rank; the stand-ins for requeueing write what they were asked to
/// do). A job goes back in the queue exactly when the run is unfinished and wrote a checkpoint newer
/// than the one it started from: not when --epochs was lowered below the checkpoint ("nothing to do"),
/// and not when a stop came before any new checkpoint (a time limit shorter than the work between
/// two checkpoints would otherwise requeue forever). The signals come from the trainer's test hook, at
/// a known step or batch.
struct BatchScriptLaunchTests {
    struct Outcome { let result: Launcher.Result; let requeued: Bool }

    /// A folder of stand-ins and the file the requeue commands append to.
    static func stubs(in dir: String) throws -> String {
        let bin = "\(dir)/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        // srun and mpirun: drop the launcher's own options, run the trainer as one task.
        let launcher = "#!/usr/bin/env bash\nwhile [ $# -gt 0 ] && [ \"$1\" != \"$DEEPCLUSTER\" ]; do shift; done\nexec \"$@\"\n"
        let requeue = "#!/usr/bin/env bash\necho \"$(basename \"$0\") $*\" >> \"$REQUEUE_LOG\"\n"
        for (name, text) in [("srun", launcher), ("mpirun", launcher), ("scontrol", requeue), ("qrerun", requeue)] {
            FileManager.default.createFile(atPath: "\(bin)/\(name)", contents: Data(text.utf8), attributes: [.posixPermissions: 0o755])
        }
        return bin
    }

    static func submit(_ script: String, in dir: String, epochs: Int, raise: String? = nil) throws -> Outcome {
        let log = "\(dir)/requeue-\(UUID().uuidString).log"
        var env = ["PATH": "\(dir)/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                   "DEEPCLUSTER": Launcher.executable, "DEEPCLUSTER_RUN": "\(dir)/run", "EPOCHS": "\(epochs)",
                   "REQUEUE_LOG": log, "SLURM_SUBMIT_DIR": Launcher.repository, "SLURM_JOB_ID": "17", "SLURM_JOB_NAME": "dc",
                   "SLURM_JOB_NUM_NODES": "1", "SLURM_JOB_NODELIST": "localhost", "SLURM_CPUS_PER_TASK": "1",
                   "PBS_O_WORKDIR": Launcher.repository, "PBS_JOBID": "17.server", "PBS_NODEFILE": "/dev/null",
                   "OMP_NUM_THREADS": "1", "WALLTIME_SECONDS": "0"]
        if let raise { env["DEEPCLUSTER_TEST_RAISE"] = raise }
        let args = ["--data", "\(dir)/x.npy", "--labels", "\(dir)/y.npy", "--clusters", "6", "--batch-size", "32",
                    "--kmeans-iters", "3", "--pca-dim", "8"]
        let r = try Launcher.start(args, program: "/bin/bash", environment: env, prefix: [Launcher.repository + "/" + script]).finish()
        let requeued = (try? String(contentsOfFile: log, encoding: .utf8))?.contains(script.hasSuffix("pbs.sh") ? "qrerun 17.server" : "scontrol requeue 17") ?? false
        return Outcome(result: r, requeued: requeued)
    }

    @Test(arguments: ["Launch/slurm.sbatch", "Launch/pbs.sh"])
    func requeuesExactlyWhenUnfinishedWithANewerCheckpoint(script: String) throws {
        let dir = Launcher.tempDir()
        Launcher.writeStripedArrays(in: dir, count: 192)   // 6 steps of 32 per epoch
        _ = try Self.stubs(in: dir)
        // A stop at step 3 of epoch 1: a checkpoint inside the epoch, newer than none → requeued.
        let stopped = try Self.submit(script, in: dir, epochs: 2, raise: "usr1:step:3:1:0")
        #expect(stopped.result.status == 0, "\(stopped.result.stdout)\n\(stopped.result.stderr)")
        #expect(stopped.result.stdout.contains("stop requested: stopped inside epoch 1"), "\(stopped.result.stdout)")
        #expect(stopped.requeued, "\(stopped.result.stdout)\n\(stopped.result.stderr)")
        // The requeued run finishes → not requeued.
        let finished = try Self.submit(script, in: dir, epochs: 2)
        #expect(finished.result.status == 0, "\(finished.result.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/run/checkpoints/epoch-0002/COMPLETE"))
        #expect(!finished.requeued, "\(finished.result.stdout)\n\(finished.result.stderr)")
        // EPOCHS lowered below the checkpoint: nothing to do, finished → not requeued.
        let lowered = try Self.submit(script, in: dir, epochs: 1)
        #expect(lowered.result.status == 0, "\(lowered.result.stderr)")
        #expect(lowered.result.stdout.contains("nothing to do"), "\(lowered.result.stdout)")
        #expect(!lowered.requeued, "\(lowered.result.stdout)\n\(lowered.result.stderr)")
        // A stop in epoch 2's extraction, before any new checkpoint → not requeued, and said why.
        let early = try Self.submit(script, in: dir, epochs: 4, raise: "usr1:extraction:1:2:0")
        #expect(early.result.status == 0, "\(early.result.stderr)")
        #expect(early.result.stdout.contains("stopped in epoch 2 during extraction (batch 1 of"), "\(early.result.stdout)")
        #expect(!early.requeued)
        #expect((early.result.stdout + early.result.stderr).contains("without a checkpoint newer than epoch-0002"),
                "\(early.result.stdout)\n\(early.result.stderr)")
    }
}
}
