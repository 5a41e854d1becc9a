import Foundation
import Testing

/// Starts the built `deepcluster` executable, alone or under mpirun, and collects its output.
enum Launcher {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        let seconds: Double
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// The executable sits beside the test bundle: .build/<config>/deepcluster.
    static var executable: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var dir = bundle
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("deepcluster").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return bundle.appendingPathComponent("deepcluster").path
    }

    static let mpirun = "/usr/bin/mpirun"
    static var hasMPI: Bool { FileManager.default.isExecutableFile(atPath: mpirun) }

    /// A job started in the background; `finish()` waits for it and collects its output.
    final class Job {
        let process: Process
        let out: Pipe, err: Pipe
        let started = Date()
        init(process: Process, out: Pipe, err: Pipe) { self.process = process; self.out = out; self.err = err }

        func finish() -> Result {
            final class Box: @unchecked Sendable { var data = Data() }
            let e = Box()
            let group = DispatchGroup()
            group.enter()
            let errHandle = err.fileHandleForReading
            DispatchQueue.global().async { e.data = errHandle.readDataToEndOfFile(); group.leave() }
            let o = out.fileHandleForReading.readDataToEndOfFile()
            group.wait()
            process.waitUntilExit()
            return Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                          stderr: String(decoding: e.data, as: UTF8.self), seconds: Date().timeIntervalSince(started))
        }
    }

    /// `ranks` nil: the executable alone (a world of one). Otherwise under mpirun, oversubscribed.
    static func run(_ args: [String], ranks: Int? = nil, timeout: Int = 120, environment: [String: String] = [:]) throws -> Result {
        try start(args, ranks: ranks, timeout: timeout, environment: environment).finish()
    }

    /// One job whose rank r runs with `perRank[r]` (mpirun's MPMD form `-np 1 A : -np 1 B`), e.g. to
    /// give each rank a checkpoint directory of its own, as node-local disks would.
    static func runPerRank(_ perRank: [[String]], timeout: Int = 120) throws -> Result {
        var args = ["--oversubscribe", "--bind-to", "none", "--timeout", "\(timeout)"]
        for (i, a) in perRank.enumerated() {
            if i > 0 { args.append(":") }
            args += ["-np", "1", "-x", "SWIFT_BACKTRACE=enable=no", executable] + a
        }
        return try start(args, ranks: nil, timeout: timeout, program: mpirun).finish()
    }

    /// A script of the repository (Launch/…) with arguments, in the same clean environment.
    static func script(_ path: String, _ args: [String]) throws -> Job {
        try start(args, ranks: nil, program: repository + "/" + path)
    }

    /// The repository's root (this file is Tests/LaunchTests/Launcher.swift).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// `environment`: variables added to the clean environment (test hooks, a script's settings);
    /// `prefix`: arguments for `program` before `args` (a script for bash).
    static func start(_ args: [String], ranks: Int? = nil, timeout: Int = 300, program: String? = nil,
                      environment: [String: String] = [:], prefix: [String] = []) throws -> Job {
        let p = Process()
        if let program {
            p.executableURL = URL(fileURLWithPath: program)
            p.arguments = prefix + args
        } else if let n = ranks {
            p.executableURL = URL(fileURLWithPath: mpirun)
            // mpirun passes on to the ranks only the variables -x names.
            p.arguments = ["--oversubscribe", "--bind-to", "none", "--timeout", "\(timeout)", "-np", "\(n)",
                           "-x", "SWIFT_BACKTRACE=enable=no"] + environment.keys.sorted().flatMap { ["-x", $0] } + [executable] + args
        } else {
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = args
        }
        // The test process may itself be an MPI singleton (CollectiveTests): drop the variables Open MPI
        // and PMIx set in it, or mpirun would think it runs inside that job.
        var env = ProcessInfo.processInfo.environment.filter { key, _ in
            !["OMPI_", "PMIX_", "OPAL_", "ORTE_", "HWLOC_"].contains { key.hasPrefix($0) }
        }
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        env["SWIFT_BACKTRACE"] = "enable=no"
        env[tagVariable] = tag
        env.merge(environment) { _, given in given }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // A backstop, so that no test waits forever: mpirun ends its job at `--timeout` and is killed if
        // still alive a minute later; an executable or script started without `-np` has no such limit
        // and is killed after `timeout` or 15 minutes, whichever is longer. The test then fails on its status.
        let pid = p.processIdentifier
        let limit = ranks == nil ? max(timeout, 900) : timeout + 60
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(limit)) { [weak p] in
            guard let p, p.isRunning, p.processIdentifier == pid else { return }
            FileHandle.standardError.write(Data("Launcher: \(args.first ?? "") still running after \(limit) s; killed\n".utf8))
            kill(pid, SIGKILL)
        }
        // The output is drained in finish(); a job writes far less than a pipe's 64 KiB before then
        // only if it is short — long jobs are read concurrently there.
        return Job(process: p, out: out, err: err)
    }

    /// Live processes running the executable that descend from `ancestor` (the job's mpirun).
    static func liveProcesses(under ancestor: Int32) -> [String] {
        func parent(_ pid: Int32) -> Int32? {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let tail = stat.split(separator: ")").last else { return nil }
            let fields = tail.split(separator: " ")
            return fields.count > 1 ? Int32(fields[1]) : nil
        }
        return liveProcesses().filter { p in
            var pid = Int32(p) ?? 0
            while pid > 1 { if pid == ancestor { return true }; pid = parent(pid) ?? 0 }
            return false
        }
    }

    /// Every job this test process starts carries this tag in its environment (mpirun hands its
    /// environment to the ranks), so a rank left behind is found even after it was reparented, and
    /// another test run's or user's `deepcluster` on the same host is never counted.
    static let tagVariable = "DEEPCLUSTER_LAUNCH_TEST_TAG"
    static let tag = UUID().uuidString

    /// Live (not zombie) processes running the executable that this test process started.
    static func liveProcesses() -> [String] {
        let procs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        let mark = Array("\(tagVariable)=\(tag)".utf8)
        return procs.compactMap { pid -> String? in
            guard Int(pid) != nil, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
            guard stat.contains("(deepcluster)") else { return nil }
            let state = stat.split(separator: ")").last?.split(separator: " ").first ?? ""
            guard state != "Z", let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return nil }
            let entries = environ.split(separator: 0)
            return entries.contains { Array($0) == mark } ? pid : nil
        }
    }

    /// Waits until `path` exists (a checkpoint's COMPLETE marker, say), polling every `poll` seconds,
    /// for at most `seconds`; returns whether it appeared.
    @discardableResult
    static func waitForFile(_ path: String, seconds: Double = 240, poll: Double = 0.2) -> Bool {
        var waited = 0.0
        while !FileManager.default.fileExists(atPath: path) && waited < seconds {
            Thread.sleep(forTimeInterval: poll); waited += poll
        }
        return FileManager.default.fileExists(atPath: path)
    }

    /// A NumPy .npy file (format 1.0) of `bytes` with this dtype and shape, for the jobs' inputs.
    static func npy(_ bytes: [UInt8], dtype: String, shape: [Int]) -> Data {
        let s = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(dtype)', 'fortran_order': False, 'shape': \(s), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)])
        d.append(contentsOf: Array(header.utf8)); d.append(contentsOf: bytes)
        return d
    }

    /// The values of a float32 .npy file (format 1.0, little-endian).
    static func float32s(_ path: String) throws -> [Float] {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        let start = 10 + Int(d[8]) + Int(d[9]) << 8
        return d.dropFirst(start).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// The largest absolute difference between two equally long arrays (infinity when they are not).
    static func largestDifference(_ a: [Float], _ b: [Float]) -> Float {
        a.count == b.count ? zip(a, b).map { abs($0 - $1) }.max() ?? 0 : .infinity
    }

    /// `count` 28×28 grey images of three stripe classes as DIR/x.npy and their labels (`firstLabel`…`firstLabel + 2`)
    /// as DIR/y.npy.
    static func writeStripedArrays(in dir: String, count n: Int, firstLabel: UInt8 = 0) {
        var pixels: [UInt8] = [], labels: [UInt8] = []
        for i in 0..<n {
            let c = i % 3
            labels.append(UInt8(c) + firstLabel)
            pixels += (0..<784).map { UInt8((($0 / 28 + c * 9) % 28 < 10 ? 200 : 20) &+ UInt8(($0 * 7 + i) % 13)) }
        }
        FileManager.default.createFile(atPath: "\(dir)/x.npy", contents: npy(pixels, dtype: "|u1", shape: [n, 28, 28]))
        FileManager.default.createFile(atPath: "\(dir)/y.npy", contents: npy(labels, dtype: "|u1", shape: [n]))
    }

    /// Flips one byte in the middle of a file (a damaged copy).
    static func damage(_ path: String) throws {
        var d = try Data(contentsOf: URL(fileURLWithPath: path))
        d[d.count / 2] ^= 0xff
        try d.write(to: URL(fileURLWithPath: path))
    }

    static func tempDir() -> String {
        let p = NSTemporaryDirectory() + "dc-launch-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    static func json(_ line: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }
}

/// Every test that starts the executable runs one at a time: the machine has two cores, and the
/// timing checks (a failing rank ends the job within 10 s) must not compete with another job.
@Suite(.serialized, .enabled(if: Launcher.hasMPI)) enum LaunchSuites {}
