/// The sums BatchNorm takes over one channel's contiguous values: eight lanes of float partial sums
/// over blocks of 1,024 values, each block's total added in double. The lanes keep the adds
/// independent, so they run at the memory's pace rather than one add's latency after another.
enum ChannelSums {
    static let block = 1024

    /// Σ x and Σ x² over `count` values.
    static func valuesAndSquares(_ x: UnsafePointer<Float>, count: Int) -> (sum: Double, squares: Double) {
        var sum = 0.0, squares = 0.0
        var start = 0
        while start < count {
            let end = min(count, start + block)
            var s = SIMD8<Float>(), q = SIMD8<Float>()
            var i = start
            while i + 8 <= end {
                let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                s += v
                q += v * v
                i += 8
            }
            var bs = s.sum(), bq = q.sum()
            while i < end { let v = x[i]; bs += v; bq += v * v; i += 1 }
            sum += Double(bs)
            squares += Double(bq)
            start = end
        }
        return (sum, squares)
    }

    /// Σ g and Σ g·x̂ over `count` values, where g is ∂y, or with `mask` (the fused ReLU's output)
    /// ∂y where the mask is positive and 0 elsewhere.
    static func gradients(_ dy: UnsafePointer<Float>, _ normalized: UnsafePointer<Float>, mask: UnsafePointer<Float>?,
                          count: Int) -> (sum: Double, dot: Double) {
        var sum = 0.0, dot = 0.0
        var start = 0
        let zero = SIMD8<Float>()
        while start < count {
            let end = min(count, start + block)
            var s = SIMD8<Float>(), d = SIMD8<Float>()
            var i = start
            while i + 8 <= end {
                var g = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
                if let mask {
                    g = zero.replacing(with: g, where: UnsafeRawPointer(mask + i).loadUnaligned(as: SIMD8<Float>.self) .> zero)
                }
                s += g
                d += g * UnsafeRawPointer(normalized + i).loadUnaligned(as: SIMD8<Float>.self)
                i += 8
            }
            var bs = s.sum(), bd = d.sum()
            while i < end {
                let di = dy[i], g = mask.map { $0[i] > 0 ? di : 0 } ?? di
                bs += g; bd += g * normalized[i]; i += 1
            }
            sum += Double(bs)
            dot += Double(bd)
            start = end
        }
        return (sum, dot)
    }
}
