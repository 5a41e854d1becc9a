import Tensor

/// BatchNorm over the channels of a (C, N, H, W) tensor, PyTorch semantics: batch statistics in
/// training (biased variance to normalise, unbiased to update the running variance), running
/// statistics in eval, momentum 0.1, eps 1e-5. Works for (N, F) tensors too (`BatchNorm1d`).
public final class BatchNorm: Layer {
    public let name: String
    public let features: Int
    public let momentum: Float
    public let eps: Float
    /// (C, N, H, W) when true; (N, F) when false.
    private let channelMajor: Bool

    private var gamma: UnsafeMutablePointer<Float>!
    private var beta: UnsafeMutablePointer<Float>!
    private var gammaGrad: UnsafeMutablePointer<Float>!
    private var betaGrad: UnsafeMutablePointer<Float>!
    private var runningMean: UnsafeMutablePointer<Float>!
    private var runningVar: UnsafeMutablePointer<Float>!
    private var batchesTracked: UnsafeMutablePointer<Float>!

    private let output = Tensor(shape: [0])
    private let normalized = Tensor(shape: [0])
    private let inputGrad = Tensor(shape: [0])
    private var invStd: [Float] = []
    private var usedBatchStatistics = true
    /// Whether the last forward applied the ReLU after it (`forward(_:mode:relu:)`).
    private var fusedReLU = false

    public init(name: String, features: Int, channelMajor: Bool = true, momentum: Float = 0.1, eps: Float = 1e-5) {
        self.name = name; self.features = features; self.channelMajor = channelMajor
        self.momentum = momentum; self.eps = eps
    }

    public var parameterSpecs: [TensorSpec] {
        [TensorSpec("weight", [features], .constant(1)), TensorSpec("bias", [features], .constant(0))]
    }
    public var bufferSpecs: [TensorSpec] {
        [TensorSpec("running_mean", [features], .constant(0)), TensorSpec("running_var", [features], .constant(1)),
         TensorSpec("num_batches_tracked", [], .constant(0))]
    }

    public func bind(_ s: LayerStorage) {
        gamma = s.parameters[0]; beta = s.parameters[1]
        gammaGrad = s.gradients[0]; betaGrad = s.gradients[1]
        runningMean = s.buffers[0]; runningVar = s.buffers[1]; batchesTracked = s.buffers[2]
    }

    public func outputShape(_ x: [Int]) -> [Int] { x }

    /// True for the (C, N, H, W) form that follows a convolution.
    public var followsConvolution: Bool { channelMajor }

    /// γ, β and their gradients in the model's flat buffers, for training's oneDNN trunk (`TrainingTrunk`).
    var trainingParameters: (gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                             gammaGradient: UnsafeMutablePointer<Float>, betaGradient: UnsafeMutablePointer<Float>) {
        (UnsafePointer(gamma!), UnsafePointer(beta!), gammaGrad!, betaGrad!)
    }

    /// Updates the running statistics from a batch's mean and biased variance over `count` values per
    /// channel, as `forward` does in training (unbiased variance into the running one).
    func recordBatchStatistics(mean: UnsafePointer<Float>, variance: UnsafePointer<Float>, count m: Int) {
        for c in 0..<features { recordBatchStatistics(channel: c, mean: mean[c], variance: Double(variance[c]), count: m) }
        batchesTracked[0] += 1
    }

    /// One channel's running statistics after a batch of mean `mean` and biased variance `variance` over `m` values.
    @inline(__always) private func recordBatchStatistics(channel c: Int, mean: Float, variance: Double, count m: Int) {
        let unbiased = m > 1 ? variance * Double(m) / Double(m - 1) : variance
        runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean
        runningVar[c] = (1 - momentum) * runningVar[c] + momentum * Float(unbiased)
    }

    /// Eval mode as one affine map per channel, y = x·scale + shift (running statistics), for folding
    /// into the convolution before it (`Conv2d.forwardFolded`).
    public func inferenceAffine() -> (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: features), shift = [Float](repeating: 0, count: features)
        for c in 0..<features {
            let istd = 1 / (runningVar[c] + eps).squareRoot()
            scale[c] = gamma[c] * istd
            shift[c] = beta[c] - runningMean[c] * scale[c]
        }
        return (scale, shift)
    }

    /// Element i of feature c sits at base(c) + i·step: (C,N,H,W) rows are contiguous, (N,F) columns strided.
    @inline(__always) private func layout(_ x: Tensor) -> (m: Int, base: Int, step: Int) {
        if channelMajor { let m = x.count / features; return (m, m, 1) }
        return (x.count / features, 1, features)
    }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor { forward(x, mode: mode, relu: false) }

    /// With `relu`, the ReLU that follows runs in the same pass: the output is max(0, γ·x̂ + β), and
    /// backward passes ∂y only where that output is positive — the values and gradients of the two
    /// layers one by one, bit for bit, without the ReLU's pass over the activations and their gradients.
    public func forward(_ x: Tensor, mode: Mode, relu: Bool) -> Tensor {
        precondition(channelMajor ? x.shape[0] == features : x.shape[1] == features, "\(name): got \(x.shape)")
        output.resize(x.shape)
        normalized.resize(x.shape)
        if invStd.count != features { invStd = [Float](repeating: 0, count: features) }
        let (m, base, step) = layout(x)
        let xs = x.data, ys = output.data, xh = normalized.data
        let g = gamma!, b = beta!, rm = runningMean!, rv = runningVar!
        let eps = self.eps
        usedBatchStatistics = mode.batchStatistics
        fusedReLU = relu
        let train = mode.batchStatistics
        invStd.withUnsafeMutableBufferPointer { inv in
            let invp = inv.baseAddress!
            Parallel.forEachChunk(features) { cs in
                for c in cs {
                    let off = c * base
                    var mean: Float, istd: Float
                    if train {
                        // Float partial sums over blocks of 1024, accumulated in double.
                        var s = 0.0, ss = 0.0
                        if step == 1 {
                            (s, ss) = ChannelSums.valuesAndSquares(xs + off, count: m)
                        } else {
                            var i = 0
                            while i < m {
                                let end = min(m, i + 1024)
                                var bs: Float = 0, bss: Float = 0
                                while i < end { let v = xs[off + i * step]; bs += v; bss += v * v; i += 1 }
                                s += Double(bs); ss += Double(bss)
                            }
                        }
                        let mu = s / Double(m)
                        let variance = max(0, ss / Double(m) - mu * mu)
                        mean = Float(mu)
                        istd = Float(1 / (variance + Double(eps)).squareRoot())
                        self.recordBatchStatistics(channel: c, mean: mean, variance: variance, count: m)
                    } else {
                        mean = rm[c]
                        istd = 1 / (rv[c] + eps).squareRoot()
                    }
                    invp[c] = istd
                    let gc = g[c], bc = b[c]
                    if step == 1 {
                        let xp = xs + off, hp = xh + off, yp = ys + off
                        if relu {
                            for i in 0..<m { let h = (xp[i] - mean) * istd; hp[i] = h; yp[i] = max(gc * h + bc, 0) }
                        } else {
                            for i in 0..<m { let h = (xp[i] - mean) * istd; hp[i] = h; yp[i] = gc * h + bc }
                        }
                    } else {
                        for i in 0..<m {
                            let j = off + i * step, h = (xs[j] - mean) * istd
                            xh[j] = h
                            ys[j] = relu ? max(gc * h + bc, 0) : gc * h + bc
                        }
                    }
                }
            }
        }
        if train { batchesTracked[0] += 1 }
        return output
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        let (m, base, step) = layout(dy)
        inputGrad.resize(dy.shape)
        let d = dy.data, xh = normalized.data, dx = inputGrad.data, y = output.data
        let g = gamma!, gg = gammaGrad!, bg = betaGrad!
        let train = usedBatchStatistics, relu = fusedReLU
        invStd.withUnsafeBufferPointer { inv in
            let invp = inv.baseAddress!
            Parallel.forEachChunk(features) { cs in
                for c in cs {
                    let off = c * base
                    var sdy = 0.0, sdyx = 0.0
                    if step == 1 {
                        (sdy, sdyx) = ChannelSums.gradients(d + off, xh + off, mask: relu ? y + off : nil, count: m)
                    } else {
                        var i = 0
                        while i < m {
                            let end = min(m, i + 1024)
                            var bs: Float = 0, bsx: Float = 0
                            while i < end {
                                let j = off + i * step, dj = d[j], gj = !relu || y[j] > 0 ? dj : 0
                                bs += gj; bsx += gj * xh[j]; i += 1
                            }
                            sdy += Double(bs); sdyx += Double(bsx)
                        }
                    }
                    gg[c] += Float(sdyx)
                    bg[c] += Float(sdy)
                    guard needInputGradient else { continue }
                    let k = g[c] * invp[c]
                    // train: dx = γ·istd/m · (m·dy − Σdy − x̂·Σdy·x̂); eval: dx = γ·istd·dy
                    let a = train ? Float(sdy) / Float(m) : 0, bb = train ? Float(sdyx) / Float(m) : 0
                    if step == 1 {
                        let dp = d + off, hp = xh + off, xp = dx + off, yp = y + off
                        if relu {
                            for i in 0..<m { let di = dp[i], gi = yp[i] > 0 ? di : 0; xp[i] = k * (gi - a - hp[i] * bb) }
                        } else {
                            for i in 0..<m { xp[i] = k * (dp[i] - a - hp[i] * bb) }
                        }
                    } else {
                        for i in 0..<m {
                            let j = off + i * step, dj = d[j], gj = !relu || y[j] > 0 ? dj : 0
                            dx[j] = k * (gj - a - xh[j] * bb)
                        }
                    }
                }
            }
        }
        return needInputGradient ? inputGrad : nil
    }
}
