import Foundation

/// The members of a tar file, found by reading its 512-byte headers only (ustar, GNU long names and
/// pax `path`/`size` records; directories, links and global headers skipped). Data is never read here.
public enum TarArchive {
    public struct Member: Sendable {
        public let name: String
        /// Where the member's data starts in the file, and its length.
        public let offset: Int64
        public let size: Int64
    }

    /// The regular files of the archive in order, and what stopped the listing early, if anything: a
    /// corrupt header, or a file that ends inside a member or before tar's end-of-archive blocks.
    public static func members(of path: String, fd: Int32, fileSize: Int64) -> (members: [Member], problem: String?) {
        var out: [Member] = []
        var offset: Int64 = 0
        var longName: String?
        var paxPath: String?, paxSize: Int64?
        while true {
            guard offset + 512 <= fileSize else {
                return (out, offset == fileSize ? "truncated: ends without tar's end-of-archive blocks" : "truncated: ends inside a header at byte \(offset)")
            }
            guard let header = try? FileRange.read(fd: fd, path: path, offset: Int(offset), count: 512), header.count == 512 else {
                return (out, "cannot read the header at byte \(offset)")
            }
            if header.allSatisfy({ $0 == 0 }) { return (out, nil) }
            guard checksumMatches(header) else { return (out, "corrupt: bad header checksum at byte \(offset)") }
            guard var size = number(header[124..<136]), size >= 0 else { return (out, "corrupt: bad size field at byte \(offset)") }
            if let s = paxSize { size = s }
            let dataStart = offset + 512
            guard dataStart + size <= fileSize else {
                return (out, "truncated: the file ends inside member \(name(header, longName: longName, paxPath: paxPath))")
            }
            let type = header[156]
            switch type {
            case UInt8(ascii: "L"):   // GNU: the next member's long name is this member's data
                guard size < 1 << 16, let data = try? FileRange.read(fd: fd, path: path, offset: Int(dataStart), count: Int(size)) else {
                    return (out, "corrupt: a long-name record of \(size) bytes at byte \(offset)")
                }
                longName = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
            case UInt8(ascii: "x"):   // pax: records for the next member
                guard size < 1 << 20, let data = try? FileRange.read(fd: fd, path: path, offset: Int(dataStart), count: Int(size)) else {
                    return (out, "corrupt: a pax header of \(size) bytes at byte \(offset)")
                }
                (paxPath, paxSize) = pax(data)
            default:
                if type == 0 || type == UInt8(ascii: "0") || type == UInt8(ascii: "7") {
                    out.append(Member(name: name(header, longName: longName, paxPath: paxPath), offset: dataStart, size: size))
                }
                longName = nil; paxPath = nil; paxSize = nil
            }
            offset = dataStart + (size + 511) / 512 * 512
        }
    }

    static func name(_ h: [UInt8], longName: String?, paxPath: String?) -> String {
        if let n = paxPath ?? longName { return n }
        let base = String(decoding: h[0..<100].prefix { $0 != 0 }, as: UTF8.self)
        let isUstar = h[257..<262].elementsEqual(Array("ustar".utf8))
        let prefix = isUstar ? String(decoding: h[345..<500].prefix { $0 != 0 }, as: UTF8.self) : ""
        return prefix.isEmpty ? base : prefix + "/" + base
    }

    /// The header's checksum: the sum of its bytes with the checksum field read as spaces (unsigned,
    /// or signed as some old writers did).
    static func checksumMatches(_ h: [UInt8]) -> Bool {
        guard let stored = number(h[148..<156]) else { return false }
        var unsigned: Int64 = 0, signed: Int64 = 0
        for (i, b) in h.enumerated() {
            let v = (148..<156).contains(i) ? UInt8(ascii: " ") : b
            unsigned += Int64(v); signed += Int64(Int8(bitPattern: v))
        }
        return stored == unsigned || stored == signed
    }

    /// An octal field (NUL- or space-terminated), or GNU's base-256 for large values.
    static func number(_ field: ArraySlice<UInt8>) -> Int64? {
        if let first = field.first, first & 0x80 != 0 {
            var v: Int64 = Int64(first & 0x7f)
            for b in field.dropFirst() { guard v < Int64.max >> 8 else { return nil }; v = v << 8 | Int64(b) }
            return v
        }
        let text = field.prefix { $0 != 0 }.filter { $0 != UInt8(ascii: " ") }
        if text.isEmpty { return 0 }
        var v: Int64 = 0
        for b in text {
            guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "7"), v < Int64.max >> 3 else { return nil }
            v = v * 8 + Int64(b - UInt8(ascii: "0"))
        }
        return v
    }

    /// The `path` and `size` of pax records ("LEN key=value\n").
    static func pax(_ data: [UInt8]) -> (String?, Int64?) {
        var path: String?, size: Int64?
        var i = 0
        while i < data.count {
            guard let space = data[i...].firstIndex(of: UInt8(ascii: " ")), let length = Int(String(decoding: data[i..<space], as: UTF8.self)),
                  length > 0, i + length <= data.count else { break }
            let record = String(decoding: data[(space + 1)..<(i + length - 1)], as: UTF8.self)
            if let eq = record.firstIndex(of: "=") {
                let key = record[..<eq], value = String(record[record.index(after: eq)...])
                if key == "path" { path = value } else if key == "size" { size = Int64(value) }
            }
            i += length
        }
        return (path, size)
    }
}
