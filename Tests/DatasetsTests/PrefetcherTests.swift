import Datasets
import Foundation
import Tensor
import Testing

@Suite struct PrefetcherTests {
    final class Counter: @unchecked Sendable {
        let lock = NSLock(); var inFlight = 0, most = 0
        func enter() { lock.lock(); inFlight += 1; most = max(most, inFlight); lock.unlock() }
        func leave() { lock.lock(); inFlight -= 1; lock.unlock() }
    }

    @Test(arguments: [0, 1, 3]) func batchesArriveInOrder(workers: Int) throws {
        let p = Prefetcher(batches: 20, workers: workers) { i, t in
            t.resize([1]); t[0] = Float(i)
            if i % 3 == 0 { Thread.sleep(forTimeInterval: 0.002) }
        }
        for i in 0..<20 { #expect(try p.next()[0] == Float(i)) }
        p.finish()
    }

    @Test func theQueueIsBounded() throws {
        let c = Counter()
        let made = Counter()
        let p = Prefetcher(batches: 30, workers: 4, depth: 3) { i, t in
            c.enter(); made.enter(); Thread.sleep(forTimeInterval: 0.001); t.resize([1]); t[0] = Float(i); c.leave()
        }
        // Nothing consumed yet: the workers make exactly `depth` batches and then wait. First see them
        // reach it (so the check below cannot pass merely because no worker has started), then give
        // them time to overrun it.
        var waited = 0.0
        while made.inFlight < 3 && waited < 10 { Thread.sleep(forTimeInterval: 0.005); waited += 0.005 }
        #expect(made.inFlight == 3, "the workers made \(made.inFlight) batches in \(waited) s")
        Thread.sleep(forTimeInterval: 0.2)
        #expect(made.inFlight == 3, "made \(made.inFlight) batches with none consumed and depth 3")
        for i in 0..<30 { #expect(try p.next()[0] == Float(i)) }
    }

    @Test func anErrorIsThrownForItsBatch() throws {
        struct Boom: Error {}
        let p = Prefetcher(batches: 5, workers: 2) { i, t in
            if i == 2 { throw Boom() }
            t.resize([1]); t[0] = Float(i)
        }
        _ = try p.next(); _ = try p.next()
        #expect(throws: Boom.self) { _ = try p.next() }
        p.finish()
    }
}
