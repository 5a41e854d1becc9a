import Collective
import Tensor

/// PCA to `dimension` components with whitening, then row-wise L2 normalisation — DeepCluster's
/// `preprocess_features` — fitted on features spread over ranks.
///
/// Mean and covariance are summed across ranks (double precision, two passes: mean first, then the
/// centred covariance); rank 0 runs LAPACK's dsyevd and broadcasts the projection, so every rank
/// applies exactly the same matrix. Eigenvalues are floored at 1e-5 × the largest before the
/// λ^-1/2 scaling (DeeperCluster's safer variant of faiss's eigen_power = -0.5).
public struct PCAWhitening {
    public let inputDimension: Int
    public let dimension: Int
    public let whiten: Bool
    /// Mean (inputDimension) and projection, row-major [inputDimension, dimension].
    public private(set) var mean: [Float]
    public private(set) var projection: [Float]
    /// Kept eigenvalues, largest first.
    public private(set) var eigenvalues: [Double]
    public static let eigenvalueFloor = 1e-5
    /// Rows per block of the covariance pass.
    public static let covarianceBlock = 1024

    /// A fitted transform read back (a checkpoint's `pca_mean.npy`, `pca_projection.npy` d × dimension
    /// with the whitening folded in, `pca_eigenvalues.npy`).
    public init(mean: [Float], projection: [Float], eigenvalues: [Double], whiten: Bool = true) {
        precondition(!mean.isEmpty && projection.count % mean.count == 0, "PCAWhitening: projection is not d × dimension")
        inputDimension = mean.count
        dimension = projection.count / mean.count
        self.whiten = whiten
        self.mean = mean; self.projection = projection; self.eigenvalues = eigenvalues
    }

    /// `epsilon` is added to every eigenvalue before the λ^-1/2 scaling, as faiss's PCAMatrix.epsilon
    /// (the PyTorch peer uses 1e-5): it damps weak directions instead of whitening them fully.
    /// `stop`, when given, is called after each block of `covarianceBlock` rows of the covariance
    /// pass (a safe point for a stop request; it throws to end the fit).
    public init(fitting x: UnsafePointer<Float>, rows: Int, columns d: Int, dimension: Int, whiten: Bool = true,
                epsilon: Double = 0, communicator comm: Communicator?, stop: (() throws -> Void)? = nil) throws {
        precondition(dimension <= d, "PCA to \(dimension) dimensions of \(d)-dimensional features")
        inputDimension = d; self.dimension = dimension; self.whiten = whiten
        // Pass 1: global mean.
        var sums = [Double](repeating: 0, count: d + 1)
        for i in 0..<rows { let r = x + i * d; for j in 0..<d { sums[j] += Double(r[j]) } }
        sums[d] = Double(rows)
        try comm?.allreduce(&sums, op: .sum)
        let total = sums[d]
        guard total > 1 else { throw ClusteringError.tooFewPoints(needed: 2, got: Int(total), what: "PCA") }
        let mu = (0..<d).map { sums[$0] / total }
        // Pass 2: centred covariance, accumulated block by block in double.
        var cov = [Double](repeating: 0, count: d * d)
        let block = PCAWhitening.covarianceBlock
        var centred = [Double](repeating: 0, count: block * d)
        var start = 0
        while start < rows {
            let m = min(block, rows - start)
            for i in 0..<m { let r = x + (start + i) * d; for j in 0..<d { centred[i * d + j] = Double(r[j]) - mu[j] } }
            centred.withUnsafeBufferPointer { c in
                cov.withUnsafeMutableBufferPointer { cv in
                    BLAS.dgemm(transA: true, m: d, n: d, k: m, a: c.baseAddress!, lda: d, b: c.baseAddress!, ldb: d,
                               beta: 1, c: cv.baseAddress!, ldc: d)
                }
            }
            start += m
            try stop?()
        }
        try comm?.allreduce(&cov, op: .sum)
        for i in 0..<cov.count { cov[i] /= total }
        var proj = [Float](repeating: 0, count: d * dimension)
        var kept = [Double](repeating: 0, count: dimension)
        if comm?.isRoot ?? true {
            let w = try BLAS.symmetricEigen(&cov, n: d)   // ascending; cov now holds eigenvectors as columns
            let largest = max(w[d - 1], 0)
            for c in 0..<dimension {
                let src = d - 1 - c
                let lambda = max(w[src], largest * PCAWhitening.eigenvalueFloor, Double.leastNormalMagnitude)
                kept[c] = w[src]
                let s = whiten ? 1 / (lambda + epsilon).squareRoot() : 1
                for r in 0..<d { proj[r * dimension + c] = Float(cov[r * d + src] * s) }
            }
        }
        // The others wait while rank 0 runs dsyevd alone (minutes at D = 4096): a known long local phase.
        try CollectiveWatchdog.patiently {
            try comm?.broadcast(&proj, root: 0)
            try comm?.broadcast(&kept, root: 0)
        }
        mean = mu.map { Float($0) }
        projection = proj
        eigenvalues = kept
    }

    /// y = (x − μ)·P for `rows` rows, then each row scaled to unit length (a zero row stays zero).
    public func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, normalize: Bool = true) {
        let d = inputDimension, k = dimension
        let block = 4096
        var centred = [Float](repeating: 0, count: block * d)
        var start = 0
        while start < rows {
            let m = min(block, rows - start)
            for i in 0..<m { let r = x + (start + i) * d; for j in 0..<d { centred[i * d + j] = r[j] - mean[j] } }
            centred.withUnsafeBufferPointer { c in
                projection.withUnsafeBufferPointer { p in
                    BLAS.sgemm(m: m, n: k, k: d, a: c.baseAddress!, lda: d, b: p.baseAddress!, ldb: k, c: y + start * k, ldc: k)
                }
            }
            start += m
        }
        if normalize { L2.normalizeRows(y, rows: rows, columns: k) }
    }
}

public enum L2 {
    /// Scales each row to unit length; rows of norm below 1e-12 are left as they are (finite).
    public static func normalizeRows(_ y: UnsafeMutablePointer<Float>, rows: Int, columns k: Int) {
        Parallel.forEachChunk(rows, minChunk: 256) { r in
            for i in r {
                let row = y + i * k
                var s: Float = 0
                for j in 0..<k { s += row[j] * row[j] }
                let norm = s.squareRoot()
                if norm > 1e-12 { let inv = 1 / norm; for j in 0..<k { row[j] *= inv } }
            }
        }
    }
}

public enum ClusteringError: Error, CustomStringConvertible {
    case tooFewPoints(needed: Int, got: Int, what: String)
    public var description: String {
        switch self {
        case let .tooFewPoints(needed, got, what): return "\(what) needs at least \(needed) points, got \(got)"
        }
    }
}
