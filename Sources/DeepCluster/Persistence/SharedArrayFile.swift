import Collective
import Datasets
import Foundation

/// One N×D float32 `.npy` written by every rank at once, each its own rows at their offset, so that
/// no rank ever holds more than its shard (`extract` at ImageNet size: 1.28 M × 4,096 floats is 21 GB,
/// and past 524,287 rows of 4,096 an allgather's Int32 counts overflow).
///
/// Rank 0 creates `PATH.partial` with the header and its full length; every rank opens it (it must be
/// on a filesystem all ranks see: a rank that cannot open it says so in one line), writes its rows
/// with `pwrite` and syncs them; once all have succeeded, rank 0 renames it to `PATH`. A job that
/// fails or is stopped leaves `PATH` as it was, and removes `PATH.partial` (a signal too).
public enum SharedArrayFile {
    public static func write(rows: [Float], firstRow: Int, totalRows: Int, columns: Int, to path: String,
                             communicator comm: Communicator) throws {
        precondition(rows.count % max(columns, 1) == 0)
        try write(pieces: [(firstRow * columns, rows)], dtype: .float32, shape: [totalRows, columns], to: path, communicator: comm)
    }

    /// The general form: each rank writes its `pieces` (a run of values starting at that element of
    /// the array in C order) — several when its rows are not contiguous, as a heads × N array's.
    public static func write<T>(pieces: [(firstElement: Int, values: [T])], dtype: NPY.DType, shape: [Int], to path: String,
                                communicator comm: Communicator) throws {
        let partial = path + ".partial"
        try StopSignal.removingOnSignal(partial) {
            try write(pieces: pieces, dtype: dtype, shape: shape, to: path, through: partial, communicator: comm)
        }
    }

    private static func write<T>(pieces: [(firstElement: Int, values: [T])], dtype: NPY.DType, shape: [Int], to path: String,
                                 through partial: String, communicator comm: Communicator) throws {
        let header = NPY.header(dtype: dtype, shape: shape)
        let size = MemoryLayout<T>.stride
        var failure: String?
        if comm.isRoot {
            failure = create(partial, header: header, dataBytes: shape.reduce(1, *) * size)
        }
        // Everyone learns whether rank 0 could create it before opening it.
        if try comm.allreduce(Int32(failure == nil ? 0 : 1), op: .max) != 0 {
            throw TrainingError.invalidConfiguration(failure ?? "rank 0 could not create \(partial)")
        }
        StopSignal.testHook(phase: "array write", count: 1, epoch: nil, rank: comm.rank)
        // 0 written; 1 cannot open; 2 cannot write; with the errno.
        var outcome: (kind: Int32, error: Int32) = (0, 0)
        let fd = open(partial, O_WRONLY)
        if fd < 0 {
            outcome = (1, errno)
        } else {
            var written = true
            for piece in pieces where written {
                written = piece.values.withUnsafeBytes { writeAll(fd, $0, at: header.count + piece.firstElement * size) }
            }
            if !written || fsync(fd) != 0 { outcome = (2, errno) }
            close(fd)
        }
        // The lowest failing rank's reason, the same line on every rank.
        let failing = try comm.allreduce(outcome.kind == 0 ? Int32.max : Int32(comm.rank), op: .min)
        if failing != Int32.max {
            var reason = [outcome.kind, outcome.error]
            try comm.broadcast(&reason, root: Int(failing))
            if comm.isRoot { unlink(partial) }
            let text = String(cString: strerror(reason[1]))
            throw TrainingError.invalidConfiguration(reason[0] == 1
                ? "rank \(failing) cannot open \(partial) that rank 0 created (\(text)): the output folder must be one that every rank sees (a shared filesystem)"
                : "rank \(failing) could not write its rows to \(partial): \(text)")
        }
        if comm.isRoot && rename(partial, path) != 0 {
            throw TrainingError.invalidConfiguration("cannot rename \(partial) to \(path): \(String(cString: strerror(errno)))")
        }
        try comm.barrier()
    }

    /// The file with its header and its final size (the data filled with zeros); nil, or why not.
    static func create(_ path: String, header: Data, dataBytes: Int) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return "cannot create \(path): \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        let ok = header.withUnsafeBytes { writeAll(fd, $0, at: 0) }
        guard ok, ftruncate(fd, off_t(header.count + dataBytes)) == 0 else {
            return "cannot write \(path) (\(header.count + dataBytes) bytes): \(String(cString: strerror(errno)))"
        }
        return nil
    }

    /// pwrite until every byte is written (it may write less than asked).
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            done += n
        }
        return true
    }
}
