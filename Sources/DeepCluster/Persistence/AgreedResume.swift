import Collective
import Foundation

/// Resuming a job whose ranks may see the checkpoint directory differently (NFS attribute caches,
/// node-local disks, a read error on one host): rank 0 names the checkpoint, every rank must be able
/// to read it, and the state that training continues from is rank 0's on every rank.
extension Checkpoint {
    /// The newest checkpoint of rank 0's listing that every rank reads with its checksums intact.
    /// Rank 0 proposes its newest, every rank tries it, and an allreduce tells whether all could;
    /// if one could not, that rank says why and every rank moves to the next older one together.
    /// With `stoppable`, a stop signal ends the search after the read in progress (`StopRequested`).
    public static func newestValidOnEveryRank(in directory: String, communicator comm: Communicator, stoppable: Bool = false,
                                              warn: (String) -> Void) throws -> Loaded {
        let names = comm.isRoot ? complete(in: directory).map { ($0 as NSString).lastPathComponent } : []
        var count = [Int32(names.count)]
        try comm.broadcast(&count, root: 0)
        let stop = stoppable ? StopPoll("resume", unit: "checkpoint read", polls: Int(count[0]), epoch: nil, communicator: comm) : nil
        for index in stride(from: Int(count[0]) - 1, through: 0, by: -1) {
            let name = try broadcastString(comm.isRoot ? names[index] : "", comm)
            var loaded: Loaded?
            var failure: Error?
            do { loaded = try load("\(directory)/\(name)") } catch { failure = error }
            try stop?.check()
            let failing = try comm.allreduce(Int32(loaded == nil ? comm.rank : Int(Int32.max)), op: .min)
            if failing == Int32.max { return loaded! }
            if let failure, comm.rank != 0, Int32(comm.rank) == failing {
                Console.error("deepcluster: rank \(comm.rank): \(failure)\n")
            }
            let reason = comm.isRoot && failing == 0 ? "\(failure!)" : "\(name) cannot be read on rank \(failing)"
            warn("\(reason); every rank falls back to the previous checkpoint")
        }
        throw CheckpointError.noCheckpoint(directory: directory)
    }

    /// Rank 0's string on every rank (UTF-8 bytes as Int32 values: MPI_INT is all the communicator needs).
    static func broadcastString(_ text: String, _ comm: Communicator) throws -> String {
        var bytes = Array(text.utf8).map { Int32($0) }
        var length = [Int32(bytes.count)]
        try comm.broadcast(&length, root: 0)
        if !comm.isRoot { bytes = [Int32](repeating: 0, count: Int(length[0])) }
        if length[0] > 0 { try comm.broadcast(&bytes, root: 0) }
        return String(decoding: bytes.map { UInt8(truncatingIfNeeded: $0) }, as: UTF8.self)
    }
}
