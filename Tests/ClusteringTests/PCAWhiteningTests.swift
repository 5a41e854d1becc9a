import Clustering
import Tensor
import Testing

@Suite struct PCAWhiteningTests {
    /// Correlated features with very different scales.
    func data(_ n: Int, _ d: Int) -> [Float] {
        var rng = RandomGenerator(seed: 4)
        let m = (0..<(d * d)).map { _ in Float(rng.normal()) }
        var x = [Float](repeating: 0, count: n * d)
        for i in 0..<n {
            let z = (0..<d).map { Float(rng.normal()) * Float(1 + $0 * $0) }
            for j in 0..<d { var s: Float = 5; for l in 0..<d { s += m[j * d + l] * z[l] }; x[i * d + j] = s }
        }
        return x
    }

    @Test func whitenedFeaturesHaveIdentityCovariance() throws {
        let n = 5000, d = 24, p = 12
        let x = data(n, d)
        let pca = try PCAWhitening(fitting: x, rows: n, columns: d, dimension: p, communicator: nil)
        var y = [Float](repeating: 0, count: n * p)
        pca.apply(x, rows: n, into: &y, normalize: false)
        var worst = 0.0
        for a in 0..<p {
            let ma = (0..<n).reduce(0.0) { $0 + Double(y[$1 * p + a]) } / Double(n)
            #expect(abs(ma) < 1e-3)
            for b in 0..<p {
                let mb = (0..<n).reduce(0.0) { $0 + Double(y[$1 * p + b]) } / Double(n)
                let c = (0..<n).reduce(0.0) { $0 + Double(y[$1 * p + a]) * Double(y[$1 * p + b]) } / Double(n) - ma * mb
                worst = max(worst, abs(c - (a == b ? 1 : 0)))
            }
        }
        #expect(worst < 1e-3, "max |cov − I| = \(worst)")
        #expect(pca.eigenvalues == pca.eigenvalues.sorted(by: >))
    }

    @Test func rowsAreUnitLengthAndZeroRowsStayFinite() throws {
        let n = 500, d = 8
        var x = data(n, d)
        let pca = try PCAWhitening(fitting: x, rows: n, columns: d, dimension: 4, communicator: nil)
        for j in 0..<d { x[j] = pca.mean[j] }   // row 0 projects to exactly zero
        var y = [Float](repeating: 0, count: n * 4)
        pca.apply(x, rows: n, into: &y)
        #expect(y.allSatisfy { $0.isFinite })
        for i in 1..<n { let s = (0..<4).reduce(Float(0)) { $0 + y[i * 4 + $1] * y[i * 4 + $1] }; #expect(abs(s - 1) < 1e-4) }
    }

    @Test func degenerateFeaturesAreFlooredNotInfinite() throws {
        // Rank-1 data: all but one eigenvalue are zero; the floor keeps the scaling finite.
        let x = (0..<200).flatMap { i in (0..<6).map { Float(i) * Float($0 + 1) } }
        let pca = try PCAWhitening(fitting: x, rows: 200, columns: 6, dimension: 3, communicator: nil)
        #expect(pca.projection.allSatisfy { $0.isFinite })
    }
}
