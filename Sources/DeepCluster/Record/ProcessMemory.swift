import Collective
import Foundation

/// What this process holds in memory, as the kernel counts it.
public enum ProcessMemory {
    /// Peak resident set of this process so far, in bytes (getrusage's ru_maxrss).
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    /// The largest peak resident set of any rank, in bytes (one allreduce: call it on every rank).
    public static func largestPeakResidentBytes(_ comm: Communicator) throws -> Int {
        Int(try comm.allreduce(Double(peakResidentBytes()), op: .max))
    }
}
