import Foundation
import Testing

/// A full disk or quota is a user's failure like any other: one line and a non-zero exit, never a
/// Foundation trap (FileHandle.write(_:) ends the process with an exception when the write fails).
extension LaunchSuites {
@Suite(.enabled(if: Launcher.hasMPI && FileManager.default.fileExists(atPath: "/dev/full"))) struct FullDiskLaunchTests {
    @Test func aRankLogOnAFullDiskEndsTheJobInOneLine() throws {
        let dir = Launcher.tempDir()
        // /dev/full: every write fails with ENOSPC, as on a full filesystem.
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/rank-1.log", withDestinationPath: "/dev/full")
        let r = try Launcher.run(["train", "--limit", "240", "--epochs", "2", "--clusters", "5", "--batch-size", "48", "--log-dir", dir, "--quiet"],
                                 ranks: 2, timeout: 120)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") }
        #expect(r.status == 1 && lines.count == 1 && lines[0].contains("rank-1.log") && lines[0].contains("No space left on device"), "\(r.status) \(r.stderr)")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(Launcher.liveProcesses().isEmpty)
    }

    @Test func anErrorLineToAFullDiskStillExitsWithItsCode() throws {
        for args in [["train", "--epochs", "0"], ["train", "--data", "/nonexistent/x.npy", "--epochs", "1"]] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Launcher.executable)
            p.arguments = args
            p.standardOutput = FileHandle(forWritingAtPath: "/dev/full")
            p.standardError = FileHandle(forWritingAtPath: "/dev/full")
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationReason == .exit && [1, 2].contains(p.terminationStatus), "\(args): \(p.terminationReason) \(p.terminationStatus)")
        }
    }

    /// The disk fills while a checkpoint is written (ENOSPC injected into its model file's write): one
    /// line naming the file, a non-zero exit, no half-written folder left taking space, and the
    /// previous checkpoint is the one --resume continues from.
    @Test func aDiskThatFillsDuringACheckpointKeepsThePreviousOne() throws {
        let dir = Launcher.tempDir() + "/ck"
        let args = ["train", "--limit", "240", "--clusters", "5", "--batch-size", "48", "--kmeans-iters", "3", "--checkpoint-dir", dir, "--quiet"]
        let r = try Launcher.run(args + ["--epochs", "3"], ranks: 2, timeout: 300,
                                 environment: ["DEEPCLUSTER_TEST_WRITE_ERRNO": "28:epoch-0002-"])
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("deepcluster") }
        #expect(lines.count == 1 && lines[0].contains("No space left on device") && lines[0].contains("epoch-0002"), "\(r.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(names.contains("epoch-0001") && !names.contains { $0.contains("epoch-0002") }, "\(names)")
        let resumed = try Launcher.run(args + ["--epochs", "2", "--resume"], ranks: 2, timeout: 300)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/epoch-0002/COMPLETE"))
    }
}
}
