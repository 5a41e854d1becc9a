import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files are written whole or not at all: write a temporary name, fsync, rename, fsync the directory.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CheckpointError.io(path: tmp, reason: String(cString: strerror(errno))) }
        // The first error's errno, kept before close and unlink can overwrite it.
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { failure = n == 0 ? EIO : errno; break }
                off += n
            }
        }
        if failure == 0, let injected = injectedFailure(path) { failure = injected }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        guard failure == 0 else { unlink(tmp); throw CheckpointError.io(path: path, reason: String(cString: strerror(failure))) }
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            throw CheckpointError.io(path: path, reason: String(cString: strerror(e)))
        }
        syncDirectory(of: path)
    }

    /// The test hook `DEEPCLUSTER_TEST_WRITE_ERRNO=ERRNO:TEXT`: a write to a path containing TEXT fails
    /// with ERRNO (28, ENOSPC: a disk that fills while a checkpoint is written).
    static func injectedFailure(_ path: String) -> Int32? {
        guard let spec = ProcessInfo.processInfo.environment["DEEPCLUSTER_TEST_WRITE_ERRNO"] else { return nil }
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let code = Int32(parts[0]), path.contains(parts[1]) else { return nil }
        return code
    }

    public static func syncDirectory(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
    }
}

public enum CheckpointError: Error, CustomStringConvertible {
    case io(path: String, reason: String)
    case corrupt(path: String, reason: String)
    case noCheckpoint(directory: String)
    case incompatible(path: String, reason: String)

    public var description: String {
        switch self {
        case let .io(p, r): return "\(p): \(r)"
        case let .corrupt(p, r): return "\(p): corrupt checkpoint: \(r)"
        case let .noCheckpoint(d): return "\(d): no complete checkpoint to resume from"
        case let .incompatible(p, r): return "\(p): checkpoint does not fit this run: \(r)"
        }
    }
}
