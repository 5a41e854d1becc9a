import Tensor
import Testing

@Suite struct Im2colTests {
    /// Direct convolution on (C, N, H, W) to compare im2col + sgemm with.
    func direct(_ x: [Float], _ w: [Float], c: Int, n: Int, h: Int, wd: Int, out: Int, k: Int, s: Int, p: Int) -> [Float] {
        let g = ConvGeometry(channels: c, height: h, width: wd, kernel: k, stride: s, padding: p)
        let oh = g.outHeight, ow = g.outWidth
        var y = [Float](repeating: 0, count: out * n * oh * ow)
        for o in 0..<out { for b in 0..<n { for oy in 0..<oh { for ox in 0..<ow {
            var acc: Float = 0
            for ci in 0..<c { for ky in 0..<k { for kx in 0..<k {
                let iy = oy * s - p + ky, ix = ox * s - p + kx
                if iy >= 0 && iy < h && ix >= 0 && ix < wd { acc += x[((ci * n + b) * h + iy) * wd + ix] * w[((o * c + ci) * k + ky) * k + kx] }
            } } }
            y[((o * n + b) * oh + oy) * ow + ox] = acc
        } } } }
        return y
    }

    @Test(arguments: [(3, 1, 1), (5, 1, 2), (3, 2, 1), (5, 2, 2), (11, 4, 2), (1, 1, 0)])
    func im2colSgemmEqualsDirectConvolution(k: Int, s: Int, p: Int) {
        let c = 3, n = 2, h = 13, w = 11, out = 4
        var rng = RandomGenerator(seed: 8)
        let x = (0..<(c * n * h * w)).map { _ in Float(rng.normal()) }
        let wt = (0..<(out * c * k * k)).map { _ in Float(rng.normal()) }
        let g = ConvGeometry(channels: c, height: h, width: w, kernel: k, stride: s, padding: p)
        let cols = g.outHeight * g.outWidth * n
        var col = [Float](repeating: 0, count: g.patchSize * cols)
        Im2col.im2col(g, input: x, batch: n, first: 0, count: n, columns: &col)
        var y = [Float](repeating: 0, count: out * cols)
        BLAS.sgemm(m: out, n: cols, k: g.patchSize, a: wt, lda: g.patchSize, b: col, ldb: cols, c: &y, ldc: cols)
        let ref = direct(x, wt, c: c, n: n, h: h, wd: w, out: out, k: k, s: s, p: p)
        #expect(zip(y, ref).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func col2imIsTheAdjointOfIm2col() {
        // ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for any x, c.
        let g = ConvGeometry(channels: 2, height: 7, width: 6, kernel: 3, stride: 2, padding: 1)
        let n = 3, cols = g.outHeight * g.outWidth * n
        var rng = RandomGenerator(seed: 2)
        let x = (0..<(2 * n * 42)).map { _ in Float(rng.normal()) }
        let c = (0..<(g.patchSize * cols)).map { _ in Float(rng.normal()) }
        var col = [Float](repeating: 0, count: c.count)
        Im2col.im2col(g, input: x, batch: n, first: 0, count: n, columns: &col)
        var back = [Float](repeating: 0, count: x.count)
        Im2col.col2im(g, columns: c, batch: n, first: 0, count: n, inputGradient: &back)
        let lhs = zip(col, c).reduce(0.0) { $0 + Double($1.0 * $1.1) }, rhs = zip(x, back).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        #expect(abs(lhs - rhs) < 1e-3 * abs(lhs))
    }
}

@Suite struct RandomGeneratorTests {
    @Test func streamsArePerPurposeAndReproducible() {
        var a = RandomGenerator(seed: 3, purpose: .sampler, 1), b = RandomGenerator(seed: 3, purpose: .sampler, 1)
        var c = RandomGenerator(seed: 3, purpose: .sampler, 2)
        let xa = (0..<5).map { _ in a.next() }, xb = (0..<5).map { _ in b.next() }, xc = (0..<5).map { _ in c.next() }
        #expect(xa == xb && xa != xc)
    }

    @Test func normalHasUnitVarianceAndDistinctIsDistinct() {
        var r = RandomGenerator(seed: 1)
        let v = (0..<20000).map { _ in r.normal() }
        let mean = v.reduce(0, +) / 20000, varc = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 20000
        #expect(abs(mean) < 0.03 && abs(varc - 1) < 0.05)
        let d = r.distinct(500, of: 600)
        #expect(Set(d).count == 500 && d.allSatisfy { $0 < 600 })
    }

    @Test func symmetricEigenOfAKnownMatrix() throws {
        var a: [Double] = [2, 1, 1, 2]
        let w = try BLAS.symmetricEigen(&a, n: 2)
        #expect(abs(w[0] - 1) < 1e-12 && abs(w[1] - 3) < 1e-12)
    }
}
