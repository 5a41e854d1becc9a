import Foundation
import Testing

/// A real multi-host run: three "hosts" as network namespaces with their own ssh daemons
/// (Launch/netns-cluster.sh), ranks started over ssh, traffic over TCP. Needs root, iproute2 and
/// openssh-server, and takes about a minute: run with DEEPCLUSTER_NETNS_TESTS=1 swift test --filter MultiHost.
extension LaunchSuites {
@Suite(.enabled(if: ProcessInfo.processInfo.environment["DEEPCLUSTER_NETNS_TESTS"] == "1"
                && getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd")))
struct MultiHostLaunchTests {
    let cluster = "Launch/netns-cluster.sh"
    let exe = Launcher.executable

    @Test func selfcheckTrainingAndALostHost() throws {
        let up = try Launcher.script(cluster, ["up", "3"]).finish()
        #expect(up.status == 0, "\(up.stderr)")
        defer { _ = try? Launcher.script(cluster, ["down"]).finish() }
        #expect(up.stdout.contains("dchost1") && up.stdout.contains("dchost3"))

        let check = try Launcher.script(cluster, ["run", "-np", "3", exe, "selfcheck"]).finish()
        #expect(check.status == 0 && check.stdout.contains("all checks passed"), "\(check.stderr)")
        #expect(check.stdout.contains("3 rank(s), 1 on this node"))

        let dir = Launcher.tempDir()
        let train = ["train", "--limit", "600", "--clusters", "10", "--threads", "1", "--batch-size", "64", "--kmeans-iters", "5",
                     "--checkpoint-dir", dir, "--collective-timeout", "15"]
        let short = try Launcher.script(cluster, ["run", "-np", "3", exe] + train + ["--epochs", "2"]).finish()
        #expect(short.status == 0, "\(short.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/epoch-0002/COMPLETE"))

        // A long run; once its next checkpoint is complete, host 2 (rank 1) loses its link.
        let job = try Launcher.script(cluster, ["run", "-np", "3", exe] + train + ["--epochs", "100", "--resume"])
        let deadline = Date().addingTimeInterval(180)
        while !FileManager.default.fileExists(atPath: "\(dir)/epoch-0003/COMPLETE") && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        let cut = try Launcher.script(cluster, ["cut", "2"]).finish()
        #expect(cut.status == 0)
        let cutAt = Date()
        let r = job.finish()
        let seconds = Date().timeIntervalSince(cutAt)
        #expect(r.status != 0)
        #expect(seconds < 90, "the job took \(seconds) s to end after the link went down")
        #expect(r.stderr.contains("has waited 15 s for the other ranks") || r.stderr.contains("lost communication"), "\(r.stderr)")
        Thread.sleep(forTimeInterval: 2)
        #expect(Launcher.liveProcesses().isEmpty)
        // The last checkpoint is whole: a local run resumes from it.
        let resumed = try Launcher.run(train + ["--epochs", "4", "--resume"], ranks: 2, timeout: 300)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("resumed from \(dir)/epoch-0003") || resumed.stdout.contains("resumed from \(dir)/epoch-0004"),
                "\(resumed.stdout)")
    }
}
}
