import CZlib
import Foundation

/// Whole-file reads, gunzipping transparently (gzip magic 1f 8b), with errors that name the file.
public enum FileBytes {
    public static func read(_ path: String) throws -> [UInt8] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
            throw DatasetError.missing(path: path)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError.unreadable(path: path, reason: "permission denied or I/O error")
        }
        let bytes = [UInt8](data)
        if bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b { return try gunzip(bytes, path: path) }
        return bytes
    }

    /// The first `count` bytes of a file, inflated when it is gzip — enough to read a magic number
    /// without reading (and inflating) the whole file.
    public static func head(_ path: String, count: Int) throws -> [UInt8] {
        guard let f = gzopen(path, "rb") else { throw DatasetError.unreadable(path: path, reason: "cannot open") }
        defer { gzclose(f) }
        var out = [UInt8](repeating: 0, count: count)
        let n = out.withUnsafeMutableBytes { gzread(f, $0.baseAddress, UInt32(count)) }
        guard n >= 0 else { throw DatasetError.corruptGzip(path: path, reason: "cannot inflate its first bytes") }
        return Array(out.prefix(Int(n)))
    }

    /// Inflates a gzip member (or several, concatenated), refusing truncated or corrupt streams.
    public static func gunzip(_ input: [UInt8], path: String) throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(input.count * 4)
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header and trailer (CRC and length are checked by zlib).
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError.corruptGzip(path: path, reason: "zlib init failed")
        }
        defer { inflateEnd(&stream) }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { inp in
            stream.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
            stream.avail_in = uInt(inp.count)
            repeat {
                try chunk.withUnsafeMutableBufferPointer { c in
                    stream.next_out = c.baseAddress
                    stream.avail_out = uInt(c.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    if status != Z_OK && status != Z_STREAM_END {
                        let msg = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                        throw DatasetError.corruptGzip(path: path, reason: status == Z_BUF_ERROR ? "unexpected end of stream" : msg)
                    }
                    out.append(contentsOf: c[0..<(c.count - Int(stream.avail_out))])
                }
                if status == Z_STREAM_END && stream.avail_in > 0 {
                    // Another gzip member follows.
                    guard inflateReset(&stream) == Z_OK else { throw DatasetError.corruptGzip(path: path, reason: "reset failed") }
                    status = Z_OK
                }
            } while status != Z_STREAM_END
        }
        return out
    }
}
