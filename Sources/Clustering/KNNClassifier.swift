import Collective
import Foundation
import Tensor

/// The weighted k-nearest-neighbour classifier self-supervised trainers monitor features with
/// (Wu et al., "Unsupervised Feature Learning via Non-Parametric Instance Discrimination", CVPR 2018;
/// solo-learn's `WeightedKNNClassifier`): features L2-normalised, cosine similarity, the k most similar
/// bank images vote for their label with weight exp(similarity / T); top-1 is the share of queries
/// whose heaviest label is theirs. Defaults k = 200, T = 0.07 as both define it.
///
/// Distributed as eval's exact k-NN: each rank holds a shard of the bank and a shard of the queries;
/// the ranks' bank blocks go round by broadcast, each rank keeping its own queries' k best, so no rank
/// holds more than its shards and one other rank's block.
public enum KNNClassifier {
    /// Top-1 accuracy over every rank's queries (the same value on every rank).
    public static func top1(bank: [Float], bankLabels: [Int32], queries: [Float], queryLabels: [Int32], dimension d: Int,
                            k: Int = 200, temperature: Float = 0.07, communicator comm: Communicator?) throws -> Double {
        var bank = bank, queries = queries
        let bankRows = bankLabels.count, queryRows = queryLabels.count
        bank.withUnsafeMutableBufferPointer { L2.normalizeRows($0.baseAddress!, rows: bankRows, columns: d) }
        queries.withUnsafeMutableBufferPointer { L2.normalizeRows($0.baseAddress!, rows: queryRows, columns: d) }
        let size = comm?.size ?? 1, me = comm?.rank ?? 0
        let counts = try comm?.allgather([Int64(bankRows)]) ?? [Int64(bankRows)]
        let total = Int(counts.reduce(0, +))
        let kk = min(k, total)
        guard kk > 0 else { return 0 }
        let classes = Int(try comm?.allreduce(Int32((bankLabels.max() ?? 0) + 1), op: .max) ?? Int32((bankLabels.max() ?? 0) + 1))
        // Each query's kk best so far, a min-heap of similarity (the root is the worst kept).
        var heap = [Float](repeating: -.infinity, count: queryRows * kk)
        var heapLabel = [Int32](repeating: -1, count: queryRows * kk)
        let blockColumns = 4096
        var sims = [Float](repeating: 0, count: max(queryRows, 1) * blockColumns)
        for r in 0..<size {
            let theirs = Int(counts[r])
            var block = r == me ? bank : [Float](repeating: 0, count: theirs * d)
            var labels = r == me ? bankLabels : [Int32](repeating: 0, count: theirs)
            if let c = comm { try c.broadcast(&block, root: r); try c.broadcast(&labels, root: r) }
            var start = 0
            while start < theirs && queryRows > 0 {
                let n = min(blockColumns, theirs - start)
                queries.withUnsafeBufferPointer { q in block.withUnsafeBufferPointer { b in sims.withUnsafeMutableBufferPointer { s in
                    BLAS.sgemm(transB: true, m: queryRows, n: n, k: d, a: q.baseAddress!, lda: d, b: b.baseAddress! + start * d, ldb: d,
                               c: s.baseAddress!, ldc: n)
                } } }
                sims.withUnsafeBufferPointer { sp in heap.withUnsafeMutableBufferPointer { hp in heapLabel.withUnsafeMutableBufferPointer { lp in
                    let sp = sp.baseAddress!, hp = hp.baseAddress!, lp = lp.baseAddress!
                    Parallel.forEachChunk(queryRows, minChunk: 64) { range in
                        for i in range {
                            let h = hp + i * kk, l = lp + i * kk
                            for j in 0..<n where sp[i * n + j] > h[0] {
                                h[0] = sp[i * n + j]; l[0] = labels[start + j]
                                siftDown(h, l, count: kk)
                            }
                        }
                    }
                } } }
                start += n
            }
        }
        var correct = 0
        var votes = [Double](repeating: 0, count: classes)
        for i in 0..<queryRows {
            for c in 0..<classes { votes[c] = 0 }
            for j in 0..<kk where heapLabel[i * kk + j] >= 0 {
                votes[Int(heapLabel[i * kk + j])] += Double(exp(heap[i * kk + j] / temperature))
            }
            var best = 0
            for c in 1..<max(classes, 1) where votes[c] > votes[best] { best = c }
            if best == Int(queryLabels[i]) { correct += 1 }
        }
        var sums = [Double(correct), Double(queryRows)]
        try comm?.allreduce(&sums, op: .sum)
        return sums[1] > 0 ? sums[0] / sums[1] : 0
    }

    /// Restores the min-heap after its root was replaced.
    static func siftDown(_ h: UnsafeMutablePointer<Float>, _ l: UnsafeMutablePointer<Int32>, count: Int) {
        var i = 0
        while true {
            let a = 2 * i + 1, b = a + 1
            var m = i
            if a < count && h[a] < h[m] { m = a }
            if b < count && h[b] < h[m] { m = b }
            if m == i { return }
            h.swapAt(i, m, l)
            i = m
        }
    }
}

private extension UnsafeMutablePointer where Pointee == Float {
    func swapAt(_ i: Int, _ j: Int, _ labels: UnsafeMutablePointer<Int32>) {
        let t = self[i]; self[i] = self[j]; self[j] = t
        let u = labels[i]; labels[i] = labels[j]; labels[j] = u
    }
}
