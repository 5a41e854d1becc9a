import Foundation

/// Each rank's own log, `--log-dir DIR/rank-N.log`: a timestamped line per event, appended across
/// resumes. Without a folder it writes nothing.
public final class RankLog {
    private let handle: FileHandle?
    private let path: String?
    /// Why the log could not be written (a full disk, a quota), once it could not; the run then stops with it.
    public private(set) var failure: CheckpointError?

    public init(directory: String?, rank: Int) throws {
        guard let dir = directory else { handle = nil; path = nil; return }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = "\(dir)/rank-\(rank).log"
        self.path = path
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        handle = FileHandle(forWritingAtPath: path)
        _ = try? handle?.seekToEnd()
    }

    /// Appends a line; after a failed write nothing more is written and `failure` says why.
    public func write(_ line: String) {
        guard let h = handle, failure == nil else { return }
        do {
            try h.write(contentsOf: Data("\(ISO8601DateFormatter().string(from: Date())) \(line)\n".utf8))
        } catch {
            failure = .io(path: path ?? "rank log", reason: "cannot write the rank's log: \(Self.errnoText(error) ?? error.localizedDescription)")
        }
    }

    /// The POSIX message of an error FileHandle reports, where it carries one.
    static func errnoText(_ error: Error) -> String? {
        let e = error as NSError
        if e.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(e.code))) }
        if let u = e.userInfo[NSUnderlyingErrorKey] as? NSError, u.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(u.code))) }
        return nil
    }
}

/// Rank 0's `--metrics` file: one JSON line per epoch, and the curves beside it (same name, .svg).
public enum MetricsFile {
    public static func append(_ record: EpochRecord, all records: [EpochRecord], to path: String) throws {
        try appendLine(record.jsonLine(), to: path)
        let chart = (path.hasSuffix(".jsonl") ? String(path.dropLast(6)) : path) + ".svg"
        try AtomicFile.write(Data(MetricsChart.svg(records).utf8), to: chart)
    }

    static func appendLine(_ line: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        if !FileManager.default.fileExists(atPath: path) {
            let dir = url.deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CheckpointError.io(path: path, reason: "cannot create metrics file")
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw CheckpointError.io(path: path, reason: "cannot open metrics file") }
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: Data((line + "\n").utf8))
    }
}
