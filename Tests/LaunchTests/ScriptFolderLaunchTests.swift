import Foundation
import Testing

extension LaunchSuites {
/// The launch scripts that run as root keep their state in folders no other user can have made
/// first: Launch/netns-cluster.sh kills only by pid files of root's own private folder, and
/// Launch/device-scaling.sh unpacks its binary into a fresh mktemp folder instead of running
/// whatever sits under a fixed /tmp name.
struct ScriptFolderLaunchTests {
    @Test func netnsClusterKillsNothingByAFolderItDidNotMake() throws {
        let dir = Launcher.tempDir() + "/netns"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o777, .ownerAccountID: 65534])
        // A process that an unprivileged user's pid file names.
        let victim = Process()
        victim.executableURL = URL(fileURLWithPath: "/bin/sleep")
        victim.arguments = ["60"]
        try victim.run()
        defer { if victim.isRunning { victim.terminate() } }
        _ = FileManager.default.createFile(atPath: "\(dir)/sshd_1.pid", contents: Data("\(victim.processIdentifier)\n".utf8))
        let r = try Launcher.start(["down"], program: "/bin/bash", environment: ["DC_NETNS_DIR": dir],
                                   prefix: [Launcher.repository + "/Launch/netns-cluster.sh"]).finish()
        #expect(r.status == 0, "\(r.stderr)")
        Thread.sleep(forTimeInterval: 0.3)
        #expect(victim.isRunning, "netns-cluster.sh down killed a process named by a pid file in a folder it did not make")
        // `run` refuses such a folder too.
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o777, .ownerAccountID: 65534])
        _ = FileManager.default.createFile(atPath: "\(dir)/hostfile", contents: Data("10.77.0.11 slots=1\n".utf8))
        let run = try Launcher.start(["run", "true"], program: "/bin/bash", environment: ["DC_NETNS_DIR": dir],
                                     prefix: [Launcher.repository + "/Launch/netns-cluster.sh"]).finish()
        #expect(run.status != 0)
        #expect(run.stderr.contains("not root's private folder"), "\(run.stderr)")
    }

    @Test func deviceScalingRunsTheBinaryItCarriesNotOneLeftInTmp() throws {
        let dir = Launcher.tempDir()
        let device = "\(dir)/device"
        try FileManager.default.createDirectory(atPath: "\(device)/debs", withIntermediateDirectories: true)
        // The carried binary: a stand-in that says what it was asked.
        let carried = "\(dir)/carried"
        _ = FileManager.default.createFile(atPath: carried, contents: Data("#!/bin/sh\necho \"carried $1 $2\"\n".utf8))
        let xz = Process()
        xz.executableURL = URL(fileURLWithPath: "/usr/bin/xz")
        xz.arguments = ["-z", "-k", carried]
        try xz.run(); xz.waitUntilExit()
        try FileManager.default.moveItem(atPath: carried + ".xz", toPath: "\(device)/deepcluster.xz")
        // What another user could have left under the old fixed name.
        let planted = "/tmp/deepcluster-device"
        let hadPlanted = FileManager.default.fileExists(atPath: planted)
        if !hadPlanted {
            _ = FileManager.default.createFile(atPath: planted, contents: Data("#!/bin/sh\necho planted\n".utf8), attributes: [.posixPermissions: 0o755])
        }
        defer { if !hadPlanted { try? FileManager.default.removeItem(atPath: planted) } }
        let r = try Launcher.start(["run", "1", "\(dir)/out"], program: "/bin/bash",
                                   environment: ["DEEPCLUSTER_DEVICE_DIR": device, "TMPDIR": dir],
                                   prefix: [Launcher.repository + "/Launch/device-scaling.sh"]).finish()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("carried bench scaling"), "\(r.stdout)")
        #expect(!r.stdout.contains("planted"))
        // Its private folder is gone afterwards.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("deepcluster-device.") }
        #expect(left.isEmpty, "\(left)")
    }
}
}
