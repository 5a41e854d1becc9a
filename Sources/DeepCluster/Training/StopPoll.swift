import Collective

/// Where every rank agreed to stop inside a long phase, e.g. "during k-means (iteration 3 of 21)".
public struct StopRequested: Error, CustomStringConvertible {
    public let point: String
    public var description: String { "stop requested \(point)" }
}

/// A safe point inside a long loop — extraction batches, PCA blocks, k-means iterations, the memory
/// bank's fill, the resume's reads — so that a stop signal ends the phase within one batch or
/// iteration instead of after it (at ImageNet size extraction alone outlasts SLURM's ten-minute warning).
///
/// Each `check()` is one allreduce of the stop flag. Every rank must call it the same number of times:
/// `polls` is that number (a loop whose length differs by one between ranks, as a shard's batches do,
/// gives the shorter count, and the extra calls are local no-ops). When any rank was signalled, every
/// rank throws `StopRequested` at the same check; nothing the phase computed is kept, and the newest
/// checkpoint stays the one to resume from.
public final class StopPoll {
    let communicator: Communicator
    public let phase: String
    let unit: String
    let polls: Int
    let epoch: Int?
    public private(set) var count = 0

    public init(_ phase: String, unit: String, polls: Int, epoch: Int?, communicator: Communicator) {
        self.phase = phase; self.unit = unit; self.polls = polls; self.epoch = epoch; self.communicator = communicator
    }

    /// One safe point per chunk of `chunk` items of the smallest rank's share of `count` (shards differ
    /// by at most one item, so every rank polls that many times): extraction batches, PCA blocks.
    public static func perChunk(_ phase: String, unit: String, count: Int, chunk: Int, epoch: Int?,
                                communicator: Communicator) -> StopPoll {
        let smallest = count / communicator.size
        return StopPoll(phase, unit: unit, polls: (smallest + chunk - 1) / chunk, epoch: epoch, communicator: communicator)
    }

    public func check() throws {
        count += 1
        guard count <= polls else { return }
        StopSignal.testHook(phase: phase, count: count, epoch: epoch, rank: communicator.rank)
        let any = try communicator.allreduce(Int32(StopSignal.requested ? 1 : 0), op: .max)
        if any != 0 { throw StopRequested(point: "during \(phase) (\(unit) \(count) of \(polls))") }
    }

    /// As a closure, for the Clustering library (which knows no stop signals).
    public var closure: () throws -> Void { { [self] in try self.check() } }
}
