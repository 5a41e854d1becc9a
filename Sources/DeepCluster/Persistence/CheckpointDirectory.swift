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
    /// Why the folder is not locked, when its filesystem has no locks (printed by the run); nil when locked.
    public private(set) var lockNote: String?

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
        // Tests inject a filesystem without locks (DEEPCLUSTER_TEST_FLOCK_ERRNO=37 is ENOLCK, 38 ENOSYS).
        let injected = ProcessInfo.processInfo.environment["DEEPCLUSTER_TEST_FLOCK_ERRNO"].flatMap { Int32($0) }
        let locked = injected == nil && flock(fd, LOCK_EX | LOCK_NB) == 0
        let failure = locked ? 0 : injected ?? errno
        if !locked {
            switch failure {
            case ENOLCK, ENOSYS, EOPNOTSUPP, EINVAL:
                // NFS without lockd (ENOLCK), Lustre mounted noflock (ENOSYS): the folder is still usable,
                // but nothing stops a second job from using it too.
                lockNote = "\(path) cannot be locked (flock: \(String(cString: strerror(failure))); a filesystem without locks, such as NFS without lockd or Lustre mounted noflock): going on without the lock — make sure no other job writes to this --checkpoint-dir"
            case EWOULDBLOCK:
                let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                close(fd)
                throw CheckpointError.io(path: path, reason: "in use by another job\(holder.isEmpty ? "" : " (\(holder))"); give each job its own --checkpoint-dir")
            default:
                close(fd)
                throw CheckpointError.io(path: lockPath, reason: "cannot lock it: \(String(cString: strerror(failure)))")
            }
        }
        lock = fd
        let text = "\(owner) since \(ISO8601DateFormatter().string(from: Date()))\n"
        ftruncate(fd, 0)
        _ = text.withCString { Glibc.pwrite(fd, $0, strlen($0), 0) }
        sweep()
    }

    deinit { close(lock) }

    /// Leftovers of jobs that died while writing (no live job can own them now, the lock is held):
    /// a complete copy whose checkpoint is missing — a crash between a rewrite's two renames, or
    /// after the last file of a new checkpoint but before its rename — is put back under its name;
    /// every other temporary (`.incomplete-*`, `.replaced-*`, AtomicFile's `*.tmp-PID`) is deleted.
    func sweep() {
        let fm = FileManager.default
        // Sorted: `.incomplete-X` (the newer complete copy) is restored before `.replaced-X` (the older).
        for name in ((try? fm.contentsOfDirectory(atPath: path)) ?? []).sorted() {
            let full = "\(path)/\(name)"
            if let checkpoint = Self.checkpointName(inTemporary: name) {
                let target = "\(path)/\(checkpoint)"
                let whole = fm.fileExists(atPath: "\(full)/\(Checkpoint.marker)")
                if whole && !fm.fileExists(atPath: target) && rename(full, target) == 0 { continue }
                try? fm.removeItem(atPath: full)
            } else if Self.isTemporary(name) || name.range(of: #"\.tmp-[0-9]+$"#, options: .regularExpression) != nil {
                try? fm.removeItem(atPath: full)
            }
        }
    }

    static func isTemporary(_ name: String) -> Bool { name.hasPrefix(".incomplete-") || name.hasPrefix(".replaced-") }

    /// The checkpoint a temporary stands for: `.replaced-epoch-0003-HOST-PID` → `epoch-0003`
    /// (`epoch-N-step-M` too); nil for any other name.
    static func checkpointName(inTemporary name: String) -> String? {
        for prefix in [".incomplete-", ".replaced-"] where name.hasPrefix(prefix) {
            let rest = String(name.dropFirst(prefix.count))
            guard let match = rest.range(of: #"^epoch-[0-9]+(-step-[0-9]+)?(?=-)"#, options: .regularExpression) else { return nil }
            return String(rest[match])
        }
        return nil
    }

    /// Where checkpoint `name` is assembled before it is renamed into place.
    public func temporary(for name: String) -> String { "\(path)/.incomplete-\(name)-\(owner)" }
    /// Where an existing checkpoint of the same name waits while its successor is renamed in.
    public func replaced(for name: String) -> String { "\(path)/.replaced-\(name)-\(owner)" }
}
