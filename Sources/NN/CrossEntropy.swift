import Tensor

/// Softmax cross-entropy on (N, K) logits.
public enum CrossEntropy {
    /// Returns the summed loss over the rows and writes dL/dlogits for loss = Σ / `divisor`
    /// (divisor = the global batch, so gradients summed over ranks are the global batch mean's).
    public static func forwardBackward(logits: Tensor, labels: UnsafeBufferPointer<Int32>, divisor: Int,
                                       gradient: Tensor) -> Double {
        let n = logits.shape[0], k = logits.shape[1]
        precondition(labels.count == n, "cross-entropy: \(labels.count) labels for \(n) rows")
        gradient.resize(logits.shape)
        var total = 0.0
        let inv = 1 / Float(divisor)
        for i in 0..<n {
            let row = logits.data + i * k, g = gradient.data + i * k
            var mx = row[0]
            for j in 1..<k { mx = max(mx, row[j]) }
            var sum: Float = 0
            for j in 0..<k { let e = expf(row[j] - mx); g[j] = e; sum += e }
            let y = Int(labels[i])
            precondition(y >= 0 && y < k, "cross-entropy: label \(y) outside 0..<\(k)")
            total += Double(logf(sum) + mx - row[y])
            let s = 1 / sum
            for j in 0..<k { g[j] *= s * inv }
            g[y] -= inv
        }
        return total
    }
}

#if canImport(Glibc)
import Glibc
#endif
