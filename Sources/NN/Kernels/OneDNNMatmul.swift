import COneDNN

/// One matrix product on oneDNN (Sources/COneDNN/matmul.c): C = A·B (+ bias) or C += A·B on fp32 matrices read
/// through their strides. In bf16 (`Shape.bf16`) A and B are converted per call and the sums run in fp32; in
/// fp32 A and B are read in place. A constant B (`Shape.constantB`: inference's weights) is converted once into
/// oneDNN's blocked layout (`convert(b:)`) and multiplied many times (`run(a:bias:c:)`).
final class OneDNNMatmul {
    struct Shape: Hashable {
        var m, n, k: Int
        /// A[i][j] = a[i·aRow + j·aColumn], B likewise.
        var aRow, aColumn, bRow, bColumn: Int
        var bias: Bool
        var accumulate: Bool
        var bf16 = true
        var constantB = false
    }

    private let handle: OpaquePointer
    private var message = [CChar](repeating: 0, count: 512)

    init(_ s: Shape) throws {
        var shape = dc_matmul_shape(m: Int32(s.m), n: Int32(s.n), k: Int32(s.k), a_row_stride: s.aRow, a_column_stride: s.aColumn,
                                    b_row_stride: s.bRow, b_column_stride: s.bColumn, bias: s.bias ? 1 : 0,
                                    accumulate: s.accumulate ? 1 : 0, bf16: s.bf16 ? 1 : 0, constant_b: s.constantB ? 1 : 0)
        var text = [CChar](repeating: 0, count: 512)
        guard let h = dc_matmul_create(&shape, &text, text.count) else { throw KernelError.onednn(String(cString: text)) }
        handle = h
    }

    deinit { dc_matmul_destroy(handle) }

    /// C (+)= A·B (+ bias), B converted by this call.
    func run(a: UnsafePointer<Float>, b: UnsafePointer<Float>, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>) throws {
        if dc_matmul_run(handle, a, b, bias, c, &message, message.count) != 0 { throw KernelError.onednn(String(cString: message)) }
    }

    /// Converts B for the runs that follow (`run(a:bias:c:)`).
    func convert(b: UnsafePointer<Float>) throws {
        if dc_matmul_convert_b(handle, b, &message, message.count) != 0 { throw KernelError.onednn(String(cString: message)) }
    }

    /// C (+)= A·B (+ bias) on B as last converted.
    func run(a: UnsafePointer<Float>, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>) throws {
        if dc_matmul_run_converted(handle, a, bias, c, &message, message.count) != 0 { throw KernelError.onednn(String(cString: message)) }
    }

    /// Runs with B as `source`'s last run converted it (the same matrix in the same element order).
    func run(a: UnsafePointer<Float>, reusingBOf source: OneDNNMatmul, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>) throws {
        if dc_matmul_run_reusing_b(handle, a, source.handle, bias, c, &message, message.count) != 0 {
            throw KernelError.onednn(String(cString: message))
        }
    }

    var implementation: String { String(cString: dc_matmul_implementation(handle)) }
}
