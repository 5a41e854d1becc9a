import Foundation

/// Byte ranges of a file by pread: the pre-scan's header and tail reads, a tar shard's members.
public enum FileRange {
    /// `count` bytes at `offset` (fewer where the file ends first).
    public static func read(_ path: String, offset: Int, count: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DatasetError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        return try read(fd: fd, path: path, offset: offset, count: count)
    }

    public static func read(fd: Int32, path: String, offset: Int, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DatasetError.unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            done += n
        }
        if done < count { out.removeLast(count - done) }
        return out
    }

    /// The file's size in bytes, or nil when it cannot be stat'ed.
    public static func size(_ path: String) -> Int? {
        var s = stat()
        return stat(path, &s) == 0 ? Int(s.st_size) : nil
    }
}
