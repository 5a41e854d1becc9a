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
        var ok = true
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { ok = false; break }
                off += n
            }
        }
        if fsync(fd) != 0 { ok = false }
        close(fd)
        guard ok else { unlink(tmp); throw CheckpointError.io(path: path, reason: String(cString: strerror(errno))) }
        guard rename(tmp, path) == 0 else { unlink(tmp); throw CheckpointError.io(path: path, reason: String(cString: strerror(errno))) }
        syncDirectory(of: path)
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
