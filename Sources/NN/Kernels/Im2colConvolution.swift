import Tensor

/// The reference convolution: im2col + sgemm over chunks of the batch. Chunks of about
/// `columnBudget` floats of columns keep im2col's output in cache for the sgemm that reads it.
/// In training, forward keeps every chunk's columns for backward (no second im2col) when the whole
/// batch's columns fit in `retainBudget` floats; otherwise backward recomputes them.
/// Workspaces are sized for the largest shape seen and reused.
public final class Im2colConvolution: ConvolutionKernel {
    /// Target size of one chunk's column matrix, in floats; tests set another for their own task
    /// (`$taskColumnBudget.withValue`), leaving the suites beside them theirs.
    public static var columnBudget: Int { taskColumnBudget ?? 1 << 20 }
    @TaskLocal public static var taskColumnBudget: Int?
    /// In training, forward keeps every chunk's column matrix for backward (no second im2col) when the
    /// whole batch's columns fit in this many floats (512 MB); otherwise backward recomputes them chunk by chunk.
    nonisolated(unsafe) public static var retainBudget = 1 << 27

    /// The shape of the current call; the workspaces follow it, so one instance serves every batch size.
    var shape: ConvolutionShape
    private let columns = Tensor(shape: [0])
    private let retained = Tensor(shape: [0])
    /// The input whose columns `retained` holds, nil when it holds none.
    private var retainedInput: UnsafePointer<Float>?

    /// What `ConvolutionKernels.describe` calls it: "reference" for the oracle and fall-back, "im2col" where
    /// the policy chose it over oneDNN for speed.
    let label: String

    init(shape: ConvolutionShape, label: String = "reference") {
        self.shape = shape
        self.label = label
    }

    private var g: ConvGeometry { shape.geometry }

    /// Drops the retained columns (another kernel ran the last forward).
    func forgetRetained() { retainedInput = nil }

    private func chunkSize(_ g: ConvGeometry) -> Int {
        max(1, min(shape.batch, Im2colConvolution.columnBudget / max(1, g.patchSize * g.outHeight * g.outWidth)))
    }

    func forward(input x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                 output: UnsafeMutablePointer<Float>) {
        let g = self.g, n = shape.batch, outChannels = shape.outChannels
        let ohw = g.outHeight * g.outWidth
        let nb = chunkSize(g)
        // Retained columns: chunk after chunk, each a [patch, count·ohw] block at offset patch·first·ohw.
        let retain = shape.training && g.patchSize * n * ohw <= Im2colConvolution.retainBudget
        retainedInput = retain ? x : nil
        if retain { retained.resize([g.patchSize * n * ohw]) } else { columns.resize([g.patchSize * nb * ohw]) }
        var first = 0
        while first < n {
            let count = min(nb, n - first)
            let cols = retain ? retained.data + g.patchSize * first * ohw : columns.data
            Im2col.im2col(g, input: x, batch: n, first: first, count: count, columns: cols)
            BLAS.sgemm(m: outChannels, n: count * ohw, k: g.patchSize, a: weight, lda: g.patchSize,
                       b: cols, ldb: count * ohw, c: output + first * ohw, ldc: n * ohw)
            first += count
        }
        let row = n * ohw
        Parallel.forEachChunk(outChannels) { rows in
            for o in rows {
                let p = output + o * row, v = bias[o]
                for i in 0..<row { p[i] += v }
            }
        }
        if shape.relu {
            let count = outChannels * n * ohw
            Parallel.forEachChunk(count, minChunk: 1 << 15) { r in for i in r { output[i] = max(output[i], 0) } }
        }
    }

    func backward(outputGradient dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                  inputGradient: UnsafeMutablePointer<Float>?, weightGradient: UnsafeMutablePointer<Float>?,
                  biasGradient: UnsafeMutablePointer<Float>?) {
        let g = self.g, n = shape.batch, outChannels = shape.outChannels
        let ohw = g.outHeight * g.outWidth, row = n * ohw
        if let bg = biasGradient { accumulateBiasGradient(dy, channels: outChannels, perChannel: row, into: bg) }
        if let dx = inputGradient { dx.update(repeating: 0, count: g.channels * n * g.height * g.width) }
        let useRetained = retainedInput == x
        let nb = chunkSize(g)
        columns.resize([g.patchSize * nb * ohw])
        var first = 0
        while first < n {
            let count = min(nb, n - first)
            let dyChunk = dy + first * ohw
            if let wg = weightGradient {
                let cols: UnsafeMutablePointer<Float>
                if useRetained {
                    cols = retained.data + g.patchSize * first * ohw
                } else {
                    cols = columns.data
                    Im2col.im2col(g, input: x, batch: n, first: first, count: count, columns: cols)
                }
                // dW[out, patch] += dY[out, cols] · colᵀ
                BLAS.sgemm(transB: true, m: outChannels, n: g.patchSize, k: count * ohw, a: dyChunk, lda: row,
                           b: cols, ldb: count * ohw, beta: 1, c: wg, ldc: g.patchSize)
            }
            if let dx = inputGradient {
                // dcol[patch, cols] = Wᵀ · dY, then scattered back into the input planes.
                BLAS.sgemm(transA: true, m: g.patchSize, n: count * ohw, k: outChannels, a: weight, lda: g.patchSize,
                           b: dyChunk, ldb: row, c: columns.data, ldc: count * ohw)
                Im2col.col2im(g, columns: columns.data, batch: n, first: first, count: count, inputGradient: dx)
            }
            first += count
        }
    }
}
