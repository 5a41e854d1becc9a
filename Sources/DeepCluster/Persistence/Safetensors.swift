import Foundation

/// The safetensors format: u64 little-endian header length, a JSON header mapping each tensor name to
/// {dtype, shape, data_offsets [begin, end)} (plus optional "__metadata__" of strings), the header
/// padded with spaces to a multiple of 8, then the packed little-endian data. PyTorch-side:
/// `safetensors.torch.load_file`, or by hand in a few lines.
public enum Safetensors {
    public struct Tensor {
        public var name: String
        public var dtype: String   // "F32" or "I64"
        public var shape: [Int]
        public var bytes: [UInt8]
        public init(name: String, shape: [Int], floats: [Float]) {
            self.name = name; dtype = "F32"; self.shape = shape
            bytes = floats.withUnsafeBytes { Array($0) }
        }
        public init(name: String, shape: [Int], int64s: [Int64]) {
            self.name = name; dtype = "I64"; self.shape = shape
            bytes = int64s.withUnsafeBytes { Array($0) }
        }
        public var floats: [Float] { bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }
        public var int64s: [Int64] { bytes.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) } }
    }

    public static let maxHeader = 100_000_000

    public static func encode(_ tensors: [Tensor], metadata: [String: String] = [:]) -> Data {
        let sorted = tensors.sorted { $0.name < $1.name }
        var header: [String: Any] = [:]
        var offset = 0
        for t in sorted {
            header[t.name] = ["dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + t.bytes.count]]
            offset += t.bytes.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        for t in sorted { out.append(contentsOf: t.bytes) }
        return out
    }

    /// Parses and checks everything: header bounds, JSON shape, dtypes, offsets tiling the data
    /// exactly, element counts matching shapes. Never trusts a size it has not checked.
    public static func decode(_ data: Data, path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func corrupt(_ r: String) -> CheckpointError { .corrupt(path: path, reason: r) }
        guard data.count >= 8 else { throw corrupt("file of \(data.count) bytes has no header") }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(maxHeader), Int(n) <= data.count - 8 else { throw corrupt("header length \(n) exceeds the file (\(data.count) bytes)") }
        let headerData = data.subdata(in: 8..<(8 + Int(n)))
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw corrupt("header is not a JSON object")
        }
        let dataStart = 8 + Int(n), dataCount = data.count - dataStart
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        var spans: [(Int, Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else { throw corrupt("__metadata__ must map strings to strings") }
                metadata = m
                continue
            }
            guard let v = value as? [String: Any], let dtype = v["dtype"] as? String,
                  let shape = v["shape"] as? [Int], let offs = v["data_offsets"] as? [Int], offs.count == 2 else {
                throw corrupt("tensor '\(name)' lacks dtype, shape or data_offsets")
            }
            let size: Int
            switch dtype { case "F32": size = 4; case "I64": size = 8; default: throw corrupt("tensor '\(name)': dtype \(dtype) is not F32 or I64") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw corrupt("tensor '\(name)': negative dimension in \(shape)") }
            let (count, o1) = shape.reduce((1, false)) { acc, d in let r = acc.0.multipliedReportingOverflow(by: d); return (r.partialValue, acc.1 || r.overflow) }
            let (bytes, o2) = count.multipliedReportingOverflow(by: size)
            guard !o1, !o2, offs[0] >= 0, offs[0] <= offs[1], offs[1] <= dataCount, offs[1] - offs[0] == bytes else {
                throw corrupt("tensor '\(name)': offsets \(offs) do not hold \(shape) \(dtype) within \(dataCount) data bytes")
            }
            spans.append((offs[0], offs[1]))
            let values = [UInt8](data.subdata(in: (dataStart + offs[0])..<(dataStart + offs[1])))
            tensors[name] = Tensor(name: name, dtype: dtype, shape: shape, bytes: values)
        }
        spans.sort { $0.0 < $1.0 }
        var end = 0
        for (b, e) in spans {
            guard b == end else { throw corrupt("tensor data overlaps or leaves a gap at byte \(end)") }
            end = e
        }
        guard end == dataCount else { throw corrupt("\(dataCount - end) bytes after the last tensor") }
        return (tensors, metadata)
    }
}

extension Safetensors.Tensor {
    init(name: String, dtype: String, shape: [Int], bytes: [UInt8]) {
        self.name = name; self.dtype = dtype; self.shape = shape; self.bytes = bytes
    }
}
