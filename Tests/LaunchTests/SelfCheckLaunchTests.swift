import Foundation
import Testing

extension LaunchSuites {
@Suite(.enabled(if: Launcher.hasMPI)) struct SelfCheckLaunchTests {
    @Test(arguments: [1, 2, 4])
    func everyCheckPasses(ranks: Int) throws {
        let r = try Launcher.run(["selfcheck"], ranks: ranks)
        #expect(r.status == 0, "\(r.stderr)")
        let checks = r.lines.filter { $0.hasPrefix("ok ") || $0.hasPrefix("FAIL") }
        #expect(checks.count == 13 && checks.allSatisfy { $0.hasPrefix("ok ") }, "\(r.stdout)")
        #expect(r.stdout.contains("\(ranks) rank(s)"))
    }

    @Test func singletonWithoutMpirun() throws {
        let r = try Launcher.run(["selfcheck"])
        #expect(r.status == 0 && r.stdout.contains("all checks passed"))
    }

    /// The bound tells a job taken down by the failing rank's abort (seconds, a 2 s grace included,
    /// longer with 4 ranks on 2 cores) from one left hanging until mpirun's --timeout (120 s) or the
    /// watchdog (600 s): it is generous on purpose, so that a loaded machine cannot fail it.
    @Test func aFailingRankTakesTheJobDownWithinSeconds() throws {
        let r = try Launcher.run(["selfcheck", "--fail-rank", "1"], ranks: 4, timeout: 120)
        #expect(r.status != 0)
        #expect(r.seconds < 45, "took \(r.seconds) s")
        #expect(r.stderr.contains("rank 1: selfcheck: failing on purpose"))
        Thread.sleep(forTimeInterval: 0.5)
        #expect(Launcher.liveProcesses().isEmpty, "left running: \(Launcher.liveProcesses())")
    }

    @Test func versionAndHelp() throws {
        let v = try Launcher.run(["--version"])
        #expect(v.status == 0 && v.stdout.contains("0."))
        let h = try Launcher.run(["train", "--help"])
        #expect(h.status == 0 && h.stdout.contains("default: 0.05") && h.stdout.contains("--checkpoint-dir"))
    }

    @Test func badFlagsEndWithOneLineAndNonZero() throws {
        let r = try Launcher.run(["train", "--clusters", "1"])
        #expect(r.status != 0 && r.stderr.contains("--clusters"))
        let r2 = try Launcher.run(["train", "--no-such-flag"])
        #expect(r2.status != 0)
        // Each bad value ends with one line naming the flag, before any work starts.
        let cases: [([String], String)] = [
            (["train", "--format", "tiff"], "--format"),
            (["train", "--resume"], "--resume needs --checkpoint-dir"),
            (["train", "--cluster-feature", "fc6"], "--cluster-feature"),
            (["train", "--top-layer", "kmeans"], "--top-layer"),
            (["train", "--pca-epsilon", "-1"], "--pca-epsilon"),
            (["train", "--momentum", "1.5"], "--momentum"),
            (["train", "--keep-checkpoints", "0"], "--keep-checkpoints"),
            (["train", "--checkpoint-every", "-1"], "--checkpoint-every"),
            (["train", "--threads", "0"], "--threads"),
            (["train", "--config", "/nonexistent/config.json"], "--config /nonexistent/config.json"),
            (["train", "--arch", "resnet50"], "--arch 'resnet50' is unknown"),
            (["eval", "--checkpoint", "/tmp", "--probe-layer", "fc7"], "--probe-layer"),
            (["train", "--resize", "-1"], "--resize"),
            (["train", "--augmentation", "cutout"], "--augmentation"),
            (["train", "--crop-scale", "0"], "--crop-scale"),
            (["train", "--workers", "-1"], "--workers"),
            (["train", "--lr-schedule", "step"], "--lr-schedule"),
            (["train", "--warmup-epochs", "9", "--epochs", "3"], "--warmup-epochs"),
            (["train", "--final-lr", "1"], "--final-lr"),
            (["train", "--brightness", "1.5"], "--brightness"),
            (["train", "--blur", "2"], "--blur"),
            (["train", "--input", "rgb"], "--input"),
            (["train", "--preset", "imagenet"], "--preset"),
            (["train", "--collective-timeout", "-1"], "--collective-timeout"),
            (["train", "--saturation", "1.5"], "--saturation"),
            (["train", "--grayscale", "2"], "--grayscale"),
            (["train", "--dropout", "1"], "--dropout"),
            (["train", "--method", "v3"], "--method must be one of deepcluster, deepcluster-v2"),
            (["train", "--heads", "3"], "--heads is for the deepcluster-v2 method"),
            (["train", "--crops", "2x0.2-1"], "--crops is for the deepcluster-v2 method"),
            (["train", "--method", "deepcluster-v2", "--heads", "0"], "--heads must be between 1 and 16"),
            (["train", "--method", "deepcluster-v2", "--crops", "2x0.5"], "--crops '2x0.5'"),
            (["train", "--method", "deepcluster-v2", "--temperature", "0"], "--temperature must be positive"),
            (["train", "--method", "deepcluster-v2", "--embedding-dim", "0"], "--embedding-dim"),
            (["train", "--method", "deepcluster-v2", "--hidden-dim", "0"], "--hidden-dim"),
            (["eval", "--checkpoint", "/tmp", "--kmeans-restarts", "0"], "--kmeans-restarts"),
            (["eval", "--checkpoint", "/tmp", "--feature", "pixels"], "--feature must be one of conv, trunk, embedding"),
            (["eval", "--checkpoint", "/tmp", "--umap-neighbours", "1"], "--umap-neighbours"),
            (["eval", "--checkpoint", "/tmp", "--balance", "half"], "--balance must be equal or none, got 'half'"),
            (["extract", "--checkpoint", "/tmp", "--out", "/tmp/x", "--feature", "pixels"], "--feature must be one of conv, trunk, embedding"),
            // Not-a-number and sizes that would be killed for memory with no line.
            (["train", "--momentum", "nan"], "--momentum must be in [0, 1), got nan"),
            (["train", "--weight-decay", "nan"], "--weight-decay"),
            (["train", "--pca-epsilon", "nan"], "--pca-epsilon"),
            (["train", "--lr", "inf"], "--lr must be positive and finite"),
            (["train", "--collective-timeout", "inf"], "--collective-timeout"),
            (["train", "--batch-size", "10000000"], "--batch-size must be between 1 and 65536"),
            (["train", "--clusters", "10000000"], "--clusters must be between 2 and"),
            (["train", "--epochs", "10000000"], "--epochs"),
            (["train", "--method", "deepcluster-v2", "--hidden-dim", "10000000"], "--hidden-dim must be between 1 and 65536"),
            (["train", "--method", "deepcluster-v2", "--temperature", "inf"], "--temperature"),
            (["train", "--kernels", "cudnn"], "--kernels"),
            (["train", "--precision", "fp8"], "--precision"),
        ]
        for (args, needle) in cases {
            let r = try Launcher.run(args)
            #expect(r.status != 0, "\(args)")
            // Exactly one line, and it names the flag.
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(needle), "\(args): \(r.stderr)")
        }
        // Under mpirun the line comes once, from rank 0, and every rank exits 2.
        let ranked = try Launcher.run(["train", "--batch-size", "10000000"], ranks: 3)
        #expect(ranked.status != 0)
        let ours = ranked.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") }
        #expect(ours.count == 1 && ours[0].contains("--batch-size must be between 1 and 65536"), "\(ranked.stderr)")
    }
}
}
