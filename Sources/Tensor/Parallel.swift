import Dispatch

/// Splits the elementwise kernels (im2col, BatchNorm, pooling...) over the rank's own threads —
/// the same count it gives OpenBLAS, so a rank never uses more cores than its share.
public enum Parallel {
    nonisolated(unsafe) private static var configured = 1
    /// The rank's thread count, or, within `$taskThreads.withValue(n) { … }`, n for that task alone: tests
    /// change it that way, so that suites running beside them keep their own.
    public static var threads: Int {
        get { taskThreads ?? configured }
        set { configured = newValue }
    }
    @TaskLocal public static var taskThreads: Int?

    /// Calls `body(range)` on disjoint chunks of 0..<count, concurrently when threads > 1.
    @inline(__always)
    public static func forEachChunk(_ count: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let workers = min(threads, max(1, count / max(minChunk, 1)))
        if workers <= 1 || count < 2 {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = count * w / workers, hi = count * (w + 1) / workers
            if lo < hi { body(lo..<hi) }
        }
    }
}
