import COpenBLAS

/// Row-major wrappers over OpenBLAS and the knobs that decide who owns the cores.
public enum BLAS {
    /// C[M×N] = alpha · op(A) · op(B) + beta · C, all row-major.
    @inline(__always)
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The same in double precision.
    @inline(__always)
    public static func dgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Double = 1, a: UnsafePointer<Double>, lda: Int,
                             b: UnsafePointer<Double>, ldb: Int,
                             beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// OpenBLAS threads for this process (set cores ÷ ranks per node, never all cores per rank).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// The kernel family OpenBLAS picked (e.g. "Haswell", "Cooperlake").
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// Symmetric eigendecomposition (LAPACK dsyevd) of the row-major n×n matrix `a`.
    /// Returns eigenvalues ascending; `a` is overwritten with the eigenvectors as columns.
    public static func symmetricEigen(_ a: inout [Double], n: Int) throws -> [Double] {
        var w = [Double](repeating: 0, count: n)
        let info = a.withUnsafeMutableBufferPointer { ap in
            w.withUnsafeMutableBufferPointer { wp in
                LAPACKE_dsyevd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")),
                               Int32(n), ap.baseAddress, Int32(n), wp.baseAddress)
            }
        }
        guard info == 0 else { throw LinearAlgebraError.eigenFailed(info: Int(info)) }
        return w
    }
}

public enum LinearAlgebraError: Error, CustomStringConvertible {
    case eigenFailed(info: Int)
    public var description: String {
        switch self {
        case let .eigenFailed(info): return "LAPACKE_dsyevd failed (info \(info)): covariance is not a valid symmetric matrix"
        }
    }
}
