import Collective
import Tensor

/// Exact k nearest neighbours (Euclidean) of every point, over points spread across ranks.
///
/// Each rank holds its own rows: global indices `offset ..< offset + rows` of `total`. The ranks'
/// blocks go round in turn — rank r broadcasts its rows, every rank compares its own rows with them
/// by sgemm (‖x‖² − 2x·y + ‖y‖²), keeps each row's k closest so far, then rank r + 1 broadcasts — so
/// no rank ever holds more than its own rows and one other rank's block, and every rank receives the
/// N × d points once, as an allgather would send them. Each point is its own first neighbour at
/// distance 0, as UMAP's `nearest_neighbors` returns it.
///
/// The result does not depend on the number of ranks, to the bit: sgemm's dot products do (OpenBLAS
/// takes another micro-kernel for a tile's edge, and where a row or column falls in a tile depends on
/// how the rows are shared — on AVX2 neighbours 7 and 8 of a point swapped between 1 and 2 ranks). So
/// sgemm only screens: a candidate whose screened distance comes within sgemm's error bound of the
/// row's k-th is measured again in double, in one fixed order, and the lists hold those exact
/// distances. Ties go to the lower index.
public enum NearestNeighbours {
    public struct Result: Sendable {
        public let k: Int
        /// rows × k global indices, nearest first (each row's own index first).
        public var indices: [Int32]
        /// rows × k Euclidean distances, ascending.
        public var distances: [Float]

        public init(k: Int, indices: [Int32], distances: [Float]) {
            self.k = k; self.indices = indices; self.distances = distances
        }
    }

    /// Rows of a block compared at once with rows of another (the distance block is at most
    /// `blockRows` × `blockColumns` floats).
    static let blockRows = 1024, blockColumns = 4096

    public static func exact(_ x: UnsafePointer<Float>, rows: Int, dimension d: Int, offset: Int, total: Int, k: Int,
                             communicator comm: Communicator?) throws -> Result {
        guard total >= k else { throw ClusteringError.tooFewPoints(needed: k, got: total, what: "\(k) nearest neighbours") }
        let size = comm?.size ?? 1
        let layout = try comm?.allgather([Int64(offset), Int64(rows)]) ?? [Int64(offset), Int64(rows)]
        // Each row's best k so far as (exact squared distance, index), sorted ascending; filled with +∞.
        var best = [Double](repeating: .infinity, count: rows * k)
        var bestIndex = [Int32](repeating: Int32.max, count: rows * k)
        let norms = rowNorms(x, rows: rows, d: d)
        // |screened − exact| ≤ 3·d·u·(‖x‖² + ‖y‖²): the error bound of a length-d float dot product
        // and of the two float norms (u = 2⁻²⁴), so no candidate that belongs is screened out.
        let slack = 3 * Float(d) * Float.ulpOfOne / 2
        var dots = [Float](repeating: 0, count: blockRows * blockColumns)
        for r in 0..<size {
            let theirOffset = Int(layout[2 * r]), theirRows = Int(layout[2 * r + 1])
            var block = [Float](repeating: 0, count: theirRows * d)
            if r == (comm?.rank ?? 0) { block.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: x, count: theirRows * d) } }
            if let c = comm { try c.broadcast(&block, root: r) }
            let theirNorms = block.withUnsafeBufferPointer { rowNorms($0.baseAddress!, rows: theirRows, d: d) }
            var start = 0
            while start < theirRows {
                let n = min(blockColumns, theirRows - start)
                var i0 = 0
                while i0 < rows {
                    let m = min(blockRows, rows - i0)
                    block.withUnsafeBufferPointer { bp in
                    dots.withUnsafeMutableBufferPointer { out in
                        BLAS.sgemm(transB: true, m: m, n: n, k: d, a: x + i0 * d, lda: d, b: bp.baseAddress! + start * d, ldb: d,
                                   c: out.baseAddress!, ldc: n)
                    }
                    dots.withUnsafeBufferPointer { dp in
                        best.withUnsafeMutableBufferPointer { bd in
                            bestIndex.withUnsafeMutableBufferPointer { bi in
                                let dp = dp.baseAddress!, bd = bd.baseAddress!, bi = bi.baseAddress!, b = bp.baseAddress!
                                Parallel.forEachChunk(m, minChunk: 64) { range in
                                    for i in range {
                                        let row = i0 + i, me = offset + row
                                        let dist = bd + row * k, idx = bi + row * k
                                        for j in 0..<n {
                                            let g = theirOffset + start + j
                                            // Itself first (below any distance), whatever the rounding.
                                            let screened: Float = g == me ? -1 : norms[row] + theirNorms[start + j] - 2 * dp[i * n + j]
                                            let worst = dist[k - 1]
                                            guard Double(screened) <= worst + Double(slack * (norms[row] + theirNorms[start + j])) else { continue }
                                            let s = g == me ? -1 : squaredDistance(x + row * d, b + (start + j) * d, d)
                                            if s < worst || (s == worst && Int32(g) < idx[k - 1]) {
                                                insert(s, Int32(g), into: dist, idx, k: k)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    }
                    i0 += m
                }
                start += n
            }
        }
        let distances = best.map { $0 <= 0 ? Float(0) : Float($0.squareRoot()) }
        return Result(k: k, indices: bestIndex, distances: distances)
    }

    /// ‖a − b‖² in double, summed in index order: the same bits on every rank and in every tiling.
    @inline(__always)
    static func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Double {
        var s = 0.0
        for t in 0..<d { let e = Double(a[t]) - Double(b[t]); s += e * e }
        return s
    }

    /// Puts (s, g) into the sorted k-list, dropping the last.
    @inline(__always)
    static func insert(_ s: Double, _ g: Int32, into dist: UnsafeMutablePointer<Double>, _ idx: UnsafeMutablePointer<Int32>, k: Int) {
        var p = k - 1
        while p > 0 && (dist[p - 1] > s || (dist[p - 1] == s && idx[p - 1] > g)) {
            dist[p] = dist[p - 1]; idx[p] = idx[p - 1]
            p -= 1
        }
        dist[p] = s; idx[p] = g
    }

    static func rowNorms(_ x: UnsafePointer<Float>, rows: Int, d: Int) -> [Float] {
        (0..<rows).map { i in
            var s: Float = 0
            for j in 0..<d { s += x[i * d + j] * x[i * d + j] }
            return s
        }
    }
}
