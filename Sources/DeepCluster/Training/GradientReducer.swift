import Collective
import Tensor

/// Sums the flat gradient buffer across ranks in fused buckets while backward still runs.
///
/// Buckets tile the buffer from its end (the top layer, whose gradient is ready first) towards its
/// start, each about `bucketBytes`, aligned to layer boundaries. When backward finishes a layer
/// whose parameters start at or below a bucket's start, that bucket's `MPI_Iallreduce` starts; the
/// requests in flight are progressed with `MPI_Test` after every layer (Open MPI has no progress
/// thread), and `finish()` waits for the rest. The time spent in that final wait is the part of the
/// communication that backward did not hide.
public final class GradientReducer {
    public let communicator: Communicator
    /// Bucket ranges in launch order (highest offsets first).
    public let buckets: [Range<Int>]
    private let gradients: UnsafeMutableBufferPointer<Float>
    private var next = 0
    private var inFlight: [Request] = []
    /// Seconds spent waiting in `finish()` in the last step.
    public private(set) var exposedSeconds = 0.0
    /// Whether this rank's own gradient held a NaN or ±inf in the last step (scanned per bucket
    /// before sending, so the rank that produced it can be named).
    public private(set) var sawNonFinite = false

    /// `gradients` is the flat gradient buffer; `layerRanges` the part of it each layer owns, in
    /// forward order (buckets end on their boundaries).
    public init(gradients: UnsafeMutableBufferPointer<Float>, layerRanges: [Range<Int>], communicator: Communicator, bucketBytes: Int) {
        self.communicator = communicator
        self.gradients = gradients
        let limit = max(1, bucketBytes / MemoryLayout<Float>.size)
        var buckets: [Range<Int>] = []
        var end = gradients.count
        for r in layerRanges.reversed() where !r.isEmpty {
            if end - r.lowerBound >= limit || r.lowerBound == 0 {
                buckets.append(r.lowerBound..<end)
                end = r.lowerBound
            }
        }
        if end > 0 { buckets.append(0..<end) }
        self.buckets = buckets
    }

    /// Called at the start of each step's backward.
    public func begin() {
        next = 0
        sawNonFinite = false
        inFlight.removeAll(keepingCapacity: true)
    }

    /// Backward has finished every layer whose parameters start at or after `offset`.
    public func ready(from offset: Int) throws {
        while next < buckets.count && buckets[next].lowerBound >= offset {
            let b = buckets[next]
            let view = UnsafeMutableBufferPointer(rebasing: gradients[b])
            next += 1
            if !sawNonFinite && !GradientReducer.allFinite(view) { sawNonFinite = true }
            guard communicator.size > 1 else { continue }
            inFlight.append(try communicator.iallreduce(view, op: .sum))
        }
        for r in inFlight where !r.isComplete { try r.test() }
    }

    /// Launches what is left and waits for every bucket.
    public func finish() throws {
        try ready(from: 0)
        guard communicator.size > 1 else { exposedSeconds = 0; return }
        let t0 = Timing.now()
        for r in inFlight { try r.wait() }
        exposedSeconds = Timing.now() - t0
    }

    /// x·0 is 0 for finite x and NaN for NaN and ±inf; one vectorisable pass.
    static func allFinite(_ v: UnsafeMutableBufferPointer<Float>) -> Bool {
        var s: Float = 0
        for x in v { s += x * 0 }
        return s == 0
    }
}
