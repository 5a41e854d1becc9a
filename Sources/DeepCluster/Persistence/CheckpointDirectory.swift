import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A --checkpoint-dir held by one job. Rank 0 takes an exclusive lock on `DIR/.lock` for the job's
/// life (flock: released by the kernel when the process ends, however it ends), so a second job given
/// the same folder stops with one line instead of racing on it. With the lock held, every temporary
/// left in the folder is a dead job's: they are swept at start. Temporary names carry the owner
/// (host and pid), and a checkpoint that replaces one of the same name is moved aside, not deleted,
/// until its successor is in place.
public final class CheckpointDirectory {
    public let path: String
    /// "host-pid": the owner in temporary names and in the lock file.
    public let owner: String
    private let lock: Int32

    public init(path: String) throws {
        self.path = path
        let fm = FileManager.default
        do { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw CheckpointError.io(path: path, reason: "cannot create the checkpoint directory (\(error.localizedDescription))")
        }
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        owner = "\(String(cString: host))-\(getpid())"
        let lockPath = "\(path)/.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw CheckpointError.io(path: lockPath, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw CheckpointError.io(path: path, reason: "in use by another job\(holder.isEmpty ? "" : " (\(holder))"); give each job its own --checkpoint-dir")
        }
        lock = fd
        let text = "\(owner) since \(ISO8601DateFormatter().string(from: Date()))\n"
        ftruncate(fd, 0)
        _ = text.withCString { Glibc.pwrite(fd, $0, strlen($0), 0) }
        // Leftovers of jobs that died while writing: no live job can own them now.
        for name in (try? fm.contentsOfDirectory(atPath: path)) ?? [] where Self.isTemporary(name) {
            try? fm.removeItem(atPath: "\(path)/\(name)")
        }
    }

    deinit { close(lock) }

    static func isTemporary(_ name: String) -> Bool { name.hasPrefix(".incomplete-") || name.hasPrefix(".replaced-") }

    /// Where checkpoint `name` is assembled before it is renamed into place.
    public func temporary(for name: String) -> String { "\(path)/.incomplete-\(name)-\(owner)" }
    /// Where an existing checkpoint of the same name waits while its successor is renamed in.
    public func replaced(for name: String) -> String { "\(path)/.replaced-\(name)-\(owner)" }
}
