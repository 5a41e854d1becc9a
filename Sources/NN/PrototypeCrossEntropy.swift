import Tensor

/// DeepCluster-v2's loss (`swav/main_deepclusterv2.py:271-276`): the logits of H heads sit side by
/// side in one (N, ΣK_h) tensor (the prototypes of every head, one matrix); each head is a softmax
/// cross-entropy of its slice divided by the temperature T against that head's label, and the loss is
/// the mean over heads. Rows whose label is negative (−100: not in any memory bank) are ignored.
public enum PrototypeCrossEntropy {
    /// Returns the summed loss over rows (mean over heads) and writes dL/dlogits for loss = Σ / `divisor`.
    /// `labels[i · H + h]` is row i's label in head h.
    public static func forwardBackward(logits: Tensor, heads: [Int], temperature: Float, labels: UnsafeBufferPointer<Int32>,
                                       divisor: Int, gradient: Tensor) -> Double {
        let n = logits.shape[0], width = logits.shape[1], h = heads.count
        precondition(heads.reduce(0, +) == width, "prototype loss: heads \(heads) for \(width) logits")
        precondition(labels.count == n * h, "prototype loss: \(labels.count) labels for \(n) rows × \(h) heads")
        gradient.resize(logits.shape)
        gradient.zero()
        let invT = 1 / temperature
        let scale = invT / Float(divisor * h)
        var total = 0.0
        var e = [Float](repeating: 0, count: heads.max() ?? 0)
        for i in 0..<n {
            var offset = 0
            for (head, k) in heads.enumerated() {
                defer { offset += k }
                let y = Int(labels[i * h + head])
                guard y >= 0 else { continue }
                precondition(y < k, "prototype loss: label \(y) outside 0..<\(k) in head \(head)")
                let row = logits.data + i * width + offset, g = gradient.data + i * width + offset
                var mx = row[0] * invT
                for j in 1..<k { mx = max(mx, row[j] * invT) }
                var sum: Float = 0
                for j in 0..<k { let v = expf(row[j] * invT - mx); e[j] = v; sum += v }
                total += Double(logf(sum) + mx - row[y] * invT) / Double(h)
                let s = scale / sum
                for j in 0..<k { g[j] = e[j] * s }
                g[y] -= scale
            }
        }
        return total
    }
}

#if canImport(Glibc)
import Glibc
#endif
