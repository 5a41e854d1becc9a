import Foundation

/// NumPy .npy v1/v2 files: little-endian float32, int32, int64 and uint8 arrays in C order.
public enum NPY {
    public enum DType: String, Sendable { case float32 = "<f4", int32 = "<i4", int64 = "<i8", uint8 = "|u1"
        var size: Int { switch self { case .float32, .int32: return 4; case .int64: return 8; case .uint8: return 1 } }
    }

    public struct Array {
        public let dtype: DType
        public let shape: [Int]
        public let bytes: [UInt8]
        public var count: Int { shape.reduce(1, *) }

        public var floats: [Float] {
            switch dtype {
            case .float32: return bytes.withUnsafeBytes { Swift.Array($0.bindMemory(to: Float.self)) }
            case .uint8: return bytes.map { Float($0) }
            case .int32: return bytes.withUnsafeBytes { $0.bindMemory(to: Int32.self).map { Float($0) } }
            case .int64: return bytes.withUnsafeBytes { $0.bindMemory(to: Int64.self).map { Float($0) } }
            }
        }

        public var int64s: [Int64] {
            switch dtype {
            case .int64: return bytes.withUnsafeBytes { Swift.Array($0.bindMemory(to: Int64.self)) }
            case .int32: return bytes.withUnsafeBytes { $0.bindMemory(to: Int32.self).map { Int64($0) } }
            case .uint8: return bytes.map { Int64($0) }
            // Floats that are not whole numbers in Int64's range come out as -1 (an invalid label; found by FuzzNPY).
            case .float32: return bytes.withUnsafeBytes { $0.bindMemory(to: Float.self).map { Int64(exactly: $0) ?? -1 } }
            }
        }
    }

    public static func encode<T>(_ values: [T], dtype: DType, shape: [Int]) -> Data {
        precondition(values.count == shape.reduce(1, *) && MemoryLayout<T>.size == dtype.size)
        var d = header(dtype: dtype, shape: shape)
        values.withUnsafeBytes { d.append(contentsOf: $0) }
        return d
    }

    /// The magic, version and header of a v1 file, padded to 64 bytes: the data follows directly, so
    /// row i of an N×D array starts at `header.count + i·D·dtype.size` (ranks write their rows there).
    public static func header(dtype: DType, shape: [Int]) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var d = Data([0x93] + Swift.Array("NUMPY".utf8) + [1, 0])
        let len = UInt16(header.utf8.count)
        d.append(contentsOf: [UInt8(len & 0xff), UInt8(len >> 8)])
        d.append(contentsOf: Swift.Array(header.utf8))
        return d
    }

    /// Where an array's data lies in its file, from the header.
    public struct Layout: Sendable {
        public let dtype: DType
        public let shape: [Int]
        /// Offset of the first element in the file.
        public let dataStart: Int
    }

    public static func decode(_ b: [UInt8], path: String) throws -> Array {
        let l = try layout(b, path: path, fileSize: b.count)
        return Array(dtype: l.dtype, shape: l.shape, bytes: Swift.Array(b[l.dataStart...]))
    }

    /// The layout of a file without reading its data (a rank that needs only some rows of it).
    public static func readLayout(_ path: String) throws -> Layout {
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        return try layout(try FileBytes.head(path, count: 65536 + 12), path: path, fileSize: size)
    }

    /// Parses the header at the start of `b` (the first bytes of a file of `fileSize` bytes) and checks
    /// that the file holds exactly the data the header promises.
    static func layout(_ b: [UInt8], path: String, fileSize: Int) throws -> Layout {
        guard b.count >= 10, b[0] == 0x93, Swift.Array(b[1..<6]) == Swift.Array("NUMPY".utf8) else {
            throw DatasetError.badMagic(path: path, expected: "\\x93NUMPY", got: b.prefix(6).map { String($0, radix: 16) }.joined(separator: " "))
        }
        let major = b[6]
        let (headerLength, start): (Int, Int)
        if major == 1 { headerLength = Int(b[8]) | Int(b[9]) << 8; start = 10 }
        else if major == 2 || major == 3 {
            guard b.count >= 12 else { throw DatasetError.truncated(path: path, expectedBytes: 12, gotBytes: b.count) }
            headerLength = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24; start = 12
        } else { throw DatasetError.unsupported(path: path, reason: ".npy version \(major) is not supported") }
        guard b.count >= start + headerLength else { throw DatasetError.truncated(path: path, expectedBytes: start + headerLength, gotBytes: b.count) }
        let header = String(decoding: b[start..<(start + headerLength)], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let d = field("descr"), let q = d.dropFirst().firstIndex(of: "'"),
              let dtype = DType(rawValue: String(d[d.index(after: d.startIndex)..<q])) else {
            throw DatasetError.unsupported(path: path, reason: "dtype in header \(header.trimmingCharacters(in: .whitespacesAndNewlines)) is not <f4, <i4, <i8 or |u1")
        }
        guard let fo = field("fortran_order"), fo.hasPrefix("False") else {
            throw DatasetError.unsupported(path: path, reason: "Fortran-ordered arrays are not supported")
        }
        // (A ")" before the "(" crashed this parser until FuzzNPY found it.)
        guard let s = field("shape"), let open = s.firstIndex(of: "("), let close = s[open...].firstIndex(of: ")") else {
            throw DatasetError.unsupported(path: path, reason: "no shape in header")
        }
        var shape: [Int] = []
        for part in s[s.index(after: open)..<close].split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0 else { throw DatasetError.unsupported(path: path, reason: "bad shape \(s[open...close])") }
            shape.append(v)
        }
        let dataStart = start + headerLength
        var n = dtype.size, overflow = false
        for d in shape where !overflow { (n, overflow) = n.multipliedReportingOverflow(by: d) }
        guard !overflow else { throw DatasetError.unsupported(path: path, reason: "shape \(shape) is too large") }
        guard fileSize - dataStart == n else { throw DatasetError.truncated(path: path, expectedBytes: n, gotBytes: fileSize - dataStart) }
        return Layout(dtype: dtype, shape: shape, dataStart: dataStart)
    }

    public static func read(_ path: String) throws -> Array { try decode(try FileBytes.read(path), path: path) }
}
