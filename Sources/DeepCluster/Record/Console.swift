import Foundation

/// Standard output and error without `FileHandle.write(_:)`, which traps (ends the process with a
/// Foundation exception) when the write fails: a full disk under a redirected stream, a closed pipe.
/// A failed write here loses its text, never the process, so the one-line error still gets its chance.
public enum Console {
    public static func error(_ text: String) { write(2, text) }
    public static func output(_ text: String) { write(1, text) }

    static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }
}
