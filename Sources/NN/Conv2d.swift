import Tensor

/// 2-D convolution with bias, as im2col + sgemm over chunks of the batch, on (C, N, H, W) tensors.
/// Workspaces are sized once per batch shape and reused. Chunks of ~4 MB of columns keep im2col's
/// output in cache for the sgemm that reads it.
public final class Conv2d: Layer {
    public let name: String
    public let inChannels, outChannels, kernel, stride, padding: Int
    public let trainable: Bool
    private let fixedWeights: [Float]?
    private var weight: UnsafeMutablePointer<Float>!
    private var bias: UnsafeMutablePointer<Float>!
    private var weightGrad: UnsafeMutablePointer<Float>?
    private var biasGrad: UnsafeMutablePointer<Float>?

    private var input: Tensor?
    private let output = Tensor(shape: [0])
    private let inputGrad = Tensor(shape: [0])
    private let columns = Tensor(shape: [0])
    private let retained = Tensor(shape: [0])
    private var retainedValid = false
    /// Target size of one chunk's column matrix, in floats.
    nonisolated(unsafe) public static var columnBudget = 1 << 20
    /// In training, the forward pass keeps every chunk's column matrix for backward (no second
    /// im2col) when the whole batch's columns fit in this many floats (512 MB); otherwise backward
    /// recomputes them chunk by chunk.
    nonisolated(unsafe) public static var retainBudget = 1 << 27

    public init(name: String, in inChannels: Int, out outChannels: Int, kernel: Int, stride: Int = 1,
                padding: Int = 0, fixedWeights: [Float]? = nil) {
        self.name = name
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride; self.padding = padding
        self.fixedWeights = fixedWeights
        trainable = fixedWeights == nil
    }

    private var weightShape: [Int] { [outChannels, inChannels, kernel, kernel] }
    private var patch: Int { inChannels * kernel * kernel }

    public var parameterSpecs: [TensorSpec] {
        guard trainable else { return [] }
        // The reference's init: N(0, sqrt(2/n)), n = kh·kw·out_channels; bias 0.
        let std = (2.0 / Double(kernel * kernel * outChannels)).squareRoot()
        return [TensorSpec("weight", weightShape, .normal(std: std)), TensorSpec("bias", [outChannels], .constant(0))]
    }

    public var bufferSpecs: [TensorSpec] {
        guard let w = fixedWeights else { return [] }
        return [TensorSpec("weight", weightShape, .values(w)), TensorSpec("bias", [outChannels], .constant(0))]
    }

    public func bind(_ s: LayerStorage) {
        if trainable {
            weight = s.parameters[0]; bias = s.parameters[1]
            weightGrad = s.gradients[0]; biasGrad = s.gradients[1]
        } else {
            weight = s.buffers[0]; bias = s.buffers[1]
        }
    }

    private func geometry(_ x: [Int]) -> ConvGeometry {
        ConvGeometry(channels: x[0], height: x[2], width: x[3], kernel: kernel, stride: stride, padding: padding)
    }

    public func outputShape(_ x: [Int]) -> [Int] {
        let g = geometry(x)
        return [outChannels, x[1], g.outHeight, g.outWidth]
    }

    private func chunkSize(_ g: ConvGeometry, batch: Int) -> Int {
        max(1, min(batch, Conv2d.columnBudget / max(1, g.patchSize * g.outHeight * g.outWidth)))
    }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[0] == inChannels, "\(name): expected (\(inChannels), N, H, W), got \(x.shape)")
        input = x
        let g = geometry(x.shape), n = x.shape[1]
        let ohw = g.outHeight * g.outWidth
        output.resize([outChannels, n, g.outHeight, g.outWidth])
        let nb = chunkSize(g, batch: n)
        // Retained columns: chunk after chunk, each a [patch, count·ohw] block at offset patch·first·ohw.
        retainedValid = mode.batchStatistics && weightGrad != nil && g.patchSize * n * ohw <= Conv2d.retainBudget
        if retainedValid { retained.resize([g.patchSize * n * ohw]) } else { columns.resize([g.patchSize * nb * ohw]) }
        var first = 0
        while first < n {
            let count = min(nb, n - first)
            let cols = retainedValid ? retained.data + g.patchSize * first * ohw : columns.data
            Im2col.im2col(g, input: x.data, batch: n, first: first, count: count, columns: cols)
            BLAS.sgemm(m: outChannels, n: count * ohw, k: g.patchSize, a: weight, lda: g.patchSize,
                       b: cols, ldb: count * ohw, c: output.data + first * ohw, ldc: n * ohw)
            first += count
        }
        let row = n * ohw, out = output.data, b = bias!
        Parallel.forEachChunk(outChannels) { rows in
            for o in rows {
                let p = out + o * row, v = b[o]
                for i in 0..<row { p[i] += v }
            }
        }
        return output
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        let g = geometry(x.shape), n = x.shape[1]
        let ohw = g.outHeight * g.outWidth, row = n * ohw
        if let bg = biasGrad {
            let d = dy.data
            Parallel.forEachChunk(outChannels) { rows in
                for o in rows {
                    let p = d + o * row
                    var s: Float = 0
                    for i in 0..<row { s += p[i] }
                    bg[o] += s
                }
            }
        }
        if needInputGradient {
            inputGrad.resize(x.shape)
            inputGrad.zero()
        }
        let nb = chunkSize(g, batch: n)
        columns.resize([g.patchSize * nb * ohw])
        var first = 0
        while first < n {
            let count = min(nb, n - first)
            let dyChunk = dy.data + first * ohw
            if let wg = weightGrad {
                let cols: UnsafeMutablePointer<Float>
                if retainedValid {
                    cols = retained.data + g.patchSize * first * ohw
                } else {
                    cols = columns.data
                    Im2col.im2col(g, input: x.data, batch: n, first: first, count: count, columns: cols)
                }
                // dW[out, patch] += dY[out, cols] · colᵀ
                BLAS.sgemm(transB: true, m: outChannels, n: g.patchSize, k: count * ohw, a: dyChunk, lda: row,
                           b: cols, ldb: count * ohw, beta: 1, c: wg, ldc: g.patchSize)
            }
            if needInputGradient {
                // dcol[patch, cols] = Wᵀ · dY, then scattered back into the input planes.
                BLAS.sgemm(transA: true, m: g.patchSize, n: count * ohw, k: outChannels, a: weight, lda: g.patchSize,
                           b: dyChunk, ldb: row, c: columns.data, ldc: count * ohw)
                Im2col.col2im(g, columns: columns.data, batch: n, first: first, count: count,
                              inputGradient: inputGrad.data)
            }
            first += count
        }
        return needInputGradient ? inputGrad : nil
    }

    /// Floating-point operations of one forward pass for a batch of shape `x`.
    public func forwardFlops(_ x: [Int]) -> Double {
        let g = geometry(x)
        return 2 * Double(outChannels * g.patchSize * x[1] * g.outHeight * g.outWidth)
    }
}
