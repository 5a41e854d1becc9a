/// The IDX format of MNIST and Fashion-MNIST: 0x00 0x00, a type byte (0x08 = unsigned byte), the
/// number of dimensions, big-endian UInt32 sizes, then the data. Plain or gzip.
public enum IDX {
    public struct Array {
        public let dims: [Int]
        public let data: [UInt8]
    }

    public static func read(_ path: String, dimensions expected: Int) throws -> Array {
        try decode(try FileBytes.read(path), dimensions: expected, path: path)
    }

    /// Parses an IDX file's (gunzipped) bytes.
    public static func decode(_ b: [UInt8], dimensions expected: Int, path: String) throws -> Array {
        guard b.count >= 4 else { throw DatasetError.truncated(path: path, expectedBytes: 4, gotBytes: b.count) }
        let magic = b[0..<4].map { String(format2($0)) }.joined()
        guard b[0] == 0, b[1] == 0, b[2] == 0x08, Int(b[3]) == expected else {
            throw DatasetError.badMagic(path: path, expected: "0x000008\(format2(UInt8(expected))) (IDX, unsigned bytes, \(expected)-D)",
                                        got: "0x\(magic)")
        }
        let header = 4 + 4 * expected
        guard b.count >= header else { throw DatasetError.truncated(path: path, expectedBytes: header, gotBytes: b.count) }
        var dims: [Int] = []
        for d in 0..<expected {
            let o = 4 + 4 * d
            dims.append(Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]))
        }
        var n = 1
        for d in dims {
            let (m, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow, m <= b.count else {
                throw DatasetError.truncated(path: path, expectedBytes: overflow ? Int.max : m, gotBytes: b.count - header)
            }
            n = m
        }
        guard b.count - header >= n else { throw DatasetError.truncated(path: path, expectedBytes: n, gotBytes: b.count - header) }
        guard b.count - header == n else {
            throw DatasetError.unsupported(path: path, reason: "\(b.count - header - n) bytes after the \(n) the header announces")
        }
        return Array(dims: dims, data: [UInt8](b[header...]))
    }

    /// Images (N×H×W) and, when given, their labels (N).
    public static func load(images: String, labels: String?) throws -> ImageSet {
        let x = try read(images, dimensions: 3)
        var y: [Int32]? = nil
        if let labels {
            let l = try read(labels, dimensions: 1)
            guard l.dims[0] == x.dims[0] else {
                throw DatasetError.countMismatch(images: images, imageCount: x.dims[0], labels: labels, labelCount: l.dims[0])
            }
            y = l.data.map { Int32($0) }
        }
        return ImageSet(pixels: x.data, count: x.dims[0], channels: 1, height: x.dims[1], width: x.dims[2], labels: y, kind: "IDX")
    }

    private static func format2(_ v: UInt8) -> String {
        let s = String(v, radix: 16)
        return s.count == 1 ? "0" + s : s
    }
}
