import Foundation

/// TensorBoard's event files, written without TensorFlow: TFRecord framing (length, masked CRC-32C of
/// the length, data, masked CRC-32C of the data) around `Event` protocol buffers (`wall_time` = 1,
/// `step` = 2, `file_version` = 3, `summary` = 5, whose `value` = 1 holds `tag` = 1 and `simple_value`
/// = 2), encoded as protobuf encodes them: fields in number order, proto3 defaults left out.
/// `Tests/DeepClusterTests/Fixtures/make_tensorboard_fixture.py` writes the same events with TensorBoard's
/// own writer and reads them back with its EventAccumulator; the tests compare bytes.
public final class TensorBoardEvents {
    public let path: String
    private let handle: FileHandle

    /// A new file `events.out.tfevents.<seconds>.<host>` in `directory`, opened with its version event.
    public init(directory: String, wallTime: Double = Date().timeIntervalSince1970, host: String = ProcessInfo.processInfo.hostName) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = "\(directory)/events.out.tfevents.\(Int(wallTime)).\(host)"
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw CheckpointError.io(path: path, reason: "cannot create the TensorBoard event file")
        }
        handle = h
        try write(Self.record(Self.event(wallTime: wallTime, step: 0, fileVersion: "brain.Event:2")))
    }

    deinit { try? handle.close() }

    /// One event of scalar summaries at `step`.
    public func add(_ scalars: [(tag: String, value: Double)], step: Int, wallTime: Double = Date().timeIntervalSince1970) throws {
        try write(Self.record(Self.event(wallTime: wallTime, step: step, scalars: scalars)))
    }

    private func write(_ bytes: [UInt8]) throws {
        do {
            try handle.write(contentsOf: bytes)
            try handle.synchronize()
        } catch {
            throw CheckpointError.io(path: path, reason: "cannot write the TensorBoard event file: \(error.localizedDescription)")
        }
    }

    /// TFRecord framing of one record.
    public static func record(_ data: [UInt8]) -> [UInt8] {
        var length = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { length[i] = UInt8(truncatingIfNeeded: UInt64(data.count) >> (8 * i)) }
        return length + littleEndian(maskedCRC32C(length)) + data + littleEndian(maskedCRC32C(data))
    }

    /// An `Event` message.
    public static func event(wallTime: Double, step: Int, fileVersion: String? = nil, scalars: [(tag: String, value: Double)] = []) -> [UInt8] {
        var out: [UInt8] = []
        if wallTime != 0 { out += [0x09] + (0..<8).map { UInt8(truncatingIfNeeded: wallTime.bitPattern >> (8 * $0)) } }
        if step != 0 { out += [0x10] + varint(UInt64(bitPattern: Int64(step))) }
        if let v = fileVersion { out += [0x1a] + varint(UInt64(v.utf8.count)) + Array(v.utf8) }
        if !scalars.isEmpty {
            var summary: [UInt8] = []
            for (tag, value) in scalars {
                var entry: [UInt8] = [0x0a] + varint(UInt64(tag.utf8.count)) + Array(tag.utf8)
                let f = Float(value)
                entry += [0x15] + littleEndian(f.bitPattern)   // in a oneof: written even when 0
                summary += [0x0a] + varint(UInt64(entry.count)) + entry
            }
            out += [0x2a] + varint(UInt64(summary.count)) + summary
        }
        return out
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value, out: [UInt8] = []
        repeat {
            let byte = UInt8(v & 0x7f)
            v >>= 7
            out.append(v == 0 ? byte : byte | 0x80)
        } while v != 0
        return out
    }

    static func littleEndian(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// CRC-32C (Castagnoli), masked as TFRecord masks it: rotated right by 15 bits, plus 0xa282ead8.
    static func maskedCRC32C(_ bytes: [UInt8]) -> UInt32 {
        let crc = crc32c(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xa282_ead8
    }

    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0x82f6_3b78 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32c(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xffff_ffff
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        return c ^ 0xffff_ffff
    }
}
