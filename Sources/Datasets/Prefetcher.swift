import Foundation
import Tensor

/// Prepares batches ahead of the training step on worker threads: batch `i` is built by
/// `make(i, tensor)` into one of `depth` slots, and `next()` hands the batches out in order. The
/// queue is bounded — a worker starts batch `j` only when fewer than `depth` batches are waiting or in
/// use — so memory stays at `depth` batches whatever the speed of the two sides. With no workers the
/// batches are made inside `next()`. An error making batch `i` is thrown by the `next()` that asks for it.
///
/// Workers only decode and augment; MPI stays on the caller's thread (MPI_THREAD_FUNNELED).
public final class Prefetcher: @unchecked Sendable {
    public let batches: Int
    public let workers: Int
    private let make: @Sendable (Int, Tensor) throws -> Void
    private let slots: [Tensor]
    private let condition = NSCondition()
    private var nextToClaim = 0
    private var released = 0
    private var ready = Set<Int>()
    private var errors: [Int: Error] = [:]
    private var stopping = false
    private var running = 0
    /// Seconds the caller spent waiting in `next()` for a batch that was not ready.
    public private(set) var waitSeconds = 0.0
    private var current = 0

    public init(batches: Int, workers: Int, depth: Int? = nil, make: @escaping @Sendable (Int, Tensor) throws -> Void) {
        self.batches = batches
        self.workers = max(0, workers)
        self.make = make
        let d = max(1, depth ?? 2 * workers)
        slots = (0..<(workers > 0 ? d : 1)).map { _ in Tensor(shape: [0]) }
        guard workers > 0 else { return }
        running = workers
        for w in 0..<workers {
            let t = Thread { [self] in work() }
            t.name = "prefetch-\(w)"
            t.start()
        }
    }

    deinit { finish() }

    private func work() {
        condition.lock()
        defer { running -= 1; condition.broadcast(); condition.unlock() }
        while true {
            while !stopping && nextToClaim < batches && nextToClaim >= released + slots.count { condition.wait() }
            if stopping || nextToClaim >= batches { return }
            let j = nextToClaim
            nextToClaim += 1
            condition.unlock()
            var failure: Error?
            do { try make(j, slots[j % slots.count]) } catch { failure = error }
            condition.lock()
            if let failure { errors[j] = failure } else { ready.insert(j) }
            condition.broadcast()
        }
    }

    /// The next batch, in order; valid until the following call.
    public func next() throws -> Tensor {
        let i = current
        precondition(i < batches, "Prefetcher: all \(batches) batches were taken")
        current += 1
        if workers == 0 {
            let start = Timing.now()
            defer { waitSeconds += Timing.now() - start }
            try make(i, slots[0])
            return slots[0]
        }
        condition.lock()
        defer { condition.unlock() }
        released = i
        condition.broadcast()
        let start = Timing.now()
        while !ready.contains(i) && errors[i] == nil { condition.wait() }
        waitSeconds += Timing.now() - start
        if let e = errors[i] { throw e }
        ready.remove(i)
        return slots[i % slots.count]
    }

    /// Stops the workers (after the batch each is making) and waits for them to leave.
    public func finish() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }
}
