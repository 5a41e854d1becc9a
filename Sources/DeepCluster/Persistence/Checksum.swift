import Collective
import CZlib
import Foundation

/// The project's checksums: CRC-32 (zlib's) of the files a checkpoint lists, and a fingerprint of a
/// float buffer by which ranks check that they hold the same values.
public enum Checksum {
    /// CRC-32 of bytes held in memory.
    public static func crc32(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { UInt32(CZlib.crc32(0, $0.bindMemory(to: UInt8.self).baseAddress, uInt($0.count))) }
    }

    /// CRC-32 of a file read 16 MiB at a time, never held whole (a memory bank is 1.3 GB at ImageNet size).
    public static func crc32(file path: String) throws -> UInt32 {
        guard let h = FileHandle(forReadingAtPath: path) else { throw CheckpointError.corrupt(path: path, reason: "missing") }
        defer { try? h.close() }
        var value: uLong = 0
        while true {
            let chunk = try h.read(upToCount: 1 << 24) ?? Data()
            if chunk.isEmpty { break }
            value = chunk.withUnsafeBytes { CZlib.crc32(value, $0.bindMemory(to: UInt8.self).baseAddress, uInt($0.count)) }
        }
        return UInt32(value)
    }

    /// FNV-1a over the values' bit patterns: equal buffers give equal fingerprints.
    public static func fingerprint<C: Collection>(_ values: C) -> UInt64 where C.Element == Float {
        var h: UInt64 = 1469598103934665603
        for v in values { h = (h ^ UInt64(v.bitPattern)) &* 1099511628211 }
        return h
    }

    /// (min, max) over ranks of the values' fingerprint (as a Double, which MPI reduces exactly for
    /// the 52 bits kept): equal iff every rank holds the same values.
    public static func rangeOverRanks<C: Collection>(_ values: C, communicator: Communicator) throws -> (min: Double, max: Double)
    where C.Element == Float {
        let c = Double(fingerprint(values) >> 12)
        return (try communicator.allreduce(c, op: .min), try communicator.allreduce(c, op: .max))
    }
}
