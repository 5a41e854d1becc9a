import Collective
import Tensor

/// How well a top layer predicts an epoch's new pseudo-labels before training: the `top_layer_agreement`
/// of the metrics (`--top-layer centroids` or `matched`; chance is about 1/k).
public enum TopLayerAgreement {
    /// The fraction of the images whose largest logit (x·Wᵀ + b, W [k, d]) is their label, over every
    /// rank's shard. `inputs`: this rank's rows of what the top layer reads. Collective.
    public static func fraction(weights: [Float], bias: [Float], inputs x: UnsafePointer<Float>, rows: Int, labels: [Int32],
                                communicator: Communicator?) throws -> Double {
        precondition(labels.count == rows, "TopLayerAgreement: \(labels.count) labels for \(rows) rows")
        let block = 1024, k = bias.count, d = weights.count / max(bias.count, 1)
        var logits = [Float](repeating: 0, count: block * k)
        var agreeing = 0
        var start = 0
        while start < rows {
            let m = min(block, rows - start)
            weights.withUnsafeBufferPointer { w in
                logits.withUnsafeMutableBufferPointer { out in
                    BLAS.sgemm(transB: true, m: m, n: k, k: d, a: x + start * d, lda: d, b: w.baseAddress!, ldb: d,
                               c: out.baseAddress!, ldc: k)
                }
            }
            for i in 0..<m {
                var best = 0, bestValue = -Float.infinity
                for j in 0..<k {
                    let v = logits[i * k + j] + bias[j]
                    if v > bestValue { bestValue = v; best = j }
                }
                if Int32(best) == labels[start + i] { agreeing += 1 }
            }
            start += m
        }
        var counts = [Int64(agreeing), Int64(rows)]
        try communicator?.allreduce(&counts, op: .sum)
        return counts[1] > 0 ? Double(counts[0]) / Double(counts[1]) : 0
    }
}
