import Tensor

/// 2-D convolution with bias on (C, N, H, W) tensors, PyTorch's (out, in, kh, kw) weights. The layer
/// holds the weights and the shapes; the arithmetic runs on the kernel that its `ConvolutionKernels`
/// (Kernels/) picks: oneDNN's primitives, or the im2col + sgemm reference.
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
    /// Which kernel runs each shape, the primitives' cache and the fall-back (Kernels/ConvolutionKernels).
    private let policy: ConvolutionKernels
    /// The kernel of the last forward, which its backward uses.
    private var active: ConvolutionKernel?
    /// This layer's backend, when it is not the process-wide `KernelBackend.current` (tests run both).
    public var kernels: KernelBackend? {
        get { policy.backend }
        set { policy.backend = newValue }
    }
    /// This layer's precision, when it is not the process-wide `KernelBackend.precision`.
    public var precision: Precision? {
        get { policy.precision }
        set { policy.precision = newValue }
    }
    /// Whether this layer's 3×3 and 5×5 convolutions may run on Winograd (inference's and training's), when
    /// not the process-wide `KernelBackend.winogradInference` / `winogradTraining`.
    public var winograd: Bool? {
        get { policy.winograd }
        set { policy.winograd = newValue }
    }
    /// What ran the last forward: "onednn:<implementation>", "winograd:f4x3" / "winograd:f2x5", "im2col" or "reference".
    public var lastKernelName: String { trunkKernelName ?? ConvolutionKernels.describe(active ?? lastFoldedKernel) }
    /// Set when the last forward ran inside `InferenceTrunk` ("onednn-trunk:<implementation>").
    var trunkKernelName: String?
    /// `forwardFolded`'s weights and bias (the BatchNorm folded in) and the kernel that ran it.
    private var foldedWeight: [Float] = [], foldedBias: [Float] = []
    private var lastFoldedKernel: ConvolutionKernel?

    public init(name: String, in inChannels: Int, out outChannels: Int, kernel: Int, stride: Int = 1,
                padding: Int = 0, fixedWeights: [Float]? = nil) {
        self.name = name
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride; self.padding = padding
        self.fixedWeights = fixedWeights
        trainable = fixedWeights == nil
        policy = ConvolutionKernels(name: name, referenceShape: ConvolutionShape(
            batch: 1, inChannels: inChannels, height: kernel, width: kernel, outChannels: outChannels,
            kernel: kernel, stride: stride, padding: padding, training: false), hasWeightGradient: trainable)
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

    private func convolutionShape(_ x: [Int], training: Bool) -> ConvolutionShape {
        ConvolutionShape(batch: x[1], inChannels: x[0], height: x[2], width: x[3], outChannels: outChannels,
                         kernel: kernel, stride: stride, padding: padding, training: training)
    }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[0] == inChannels, "\(name): expected (\(inChannels), N, H, W), got \(x.shape)")
        input = x
        active = run(x, shape: convolutionShape(x.shape, training: mode.backward), weight: weight, bias: bias)
        lastFoldedKernel = nil
        trunkKernelName = nil
        return output
    }

    /// Runs one forward of `shape` into `output` on the policy's kernel, falling back to the reference
    /// when oneDNN fails during the call (never expected; noted once); returns the kernel that ran.
    private func run(_ x: Tensor, shape: ConvolutionShape, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>) -> ConvolutionKernel {
        let g = shape.geometry
        output.resize([outChannels, shape.batch, g.outHeight, g.outWidth])
        var k = policy.kernel(for: shape)
        do {
            try k.forward(input: x.data, weight: weight, bias: bias, output: output.data)
        } catch {
            k = policy.fallBack(shape, error)
            try! k.forward(input: x.data, weight: weight, bias: bias, output: output.data)
        }
        return k
    }

    /// Inference only: this convolution followed by an eval-mode BatchNorm (per output channel,
    /// y·scale + shift) and, with `relu`, a ReLU — run as one convolution whose weights and bias carry
    /// the BatchNorm, the ReLU a post-op of oneDNN's primitive, so the activation is written once
    /// instead of three times. PyTorch's eager mode runs the three. No backward follows.
    public func forwardFolded(_ x: Tensor, scale: [Float], shift: [Float], relu: Bool) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[0] == inChannels, "\(name): expected (\(inChannels), N, H, W), got \(x.shape)")
        precondition(scale.count == outChannels && shift.count == outChannels, "\(name): folding \(scale.count) channels into \(outChannels)")
        _ = folded(scale: scale, shift: shift)
        var shape = convolutionShape(x.shape, training: false)
        shape.relu = relu
        input = nil
        active = nil
        trunkKernelName = nil
        lastFoldedKernel = run(x, shape: shape, weight: foldedWeight, bias: foldedBias)
        return output
    }

    /// The weights, bias and their gradients (nil when not trained) in the model's flat buffers, which
    /// training's oneDNN trunk (`TrainingTrunk`) reads and accumulates into in this layer's place.
    var trainingParameters: (weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                             weightGradient: UnsafeMutablePointer<Float>?, biasGradient: UnsafeMutablePointer<Float>?) {
        (UnsafePointer(weight!), UnsafePointer(bias!), weightGrad, biasGrad)
    }

    /// This layer's weights and bias with an eval-mode BatchNorm's per-channel affine map folded in
    /// (weight·scale, bias·scale + shift); without one, the weights and bias as they are.
    func folded(scale: [Float]?, shift: [Float]?) -> (weight: [Float], bias: [Float]) {
        let p = patch
        if foldedWeight.count != outChannels * p { foldedWeight = [Float](repeating: 0, count: outChannels * p) }
        if foldedBias.count != outChannels { foldedBias = [Float](repeating: 0, count: outChannels) }
        for o in 0..<outChannels {
            let s = scale?[o] ?? 1
            for j in 0..<p { foldedWeight[o * p + j] = weight[o * p + j] * s }
            foldedBias[o] = bias[o] * s + (shift?[o] ?? 0)
        }
        return (foldedWeight, foldedBias)
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard let x = input, var k = active else { preconditionFailure("\(name): backward before forward") }
        if needInputGradient { inputGrad.resize(x.shape) }
        let dx = needInputGradient ? inputGrad.data : nil
        do {
            try k.backward(outputGradient: dy.data, input: x.data, weight: weight, inputGradient: dx,
                           weightGradient: weightGrad, biasGradient: biasGrad)
        } catch {
            k = policy.fallBack(convolutionShape(x.shape, training: true), error)
            try! k.backward(outputGradient: dy.data, input: x.data, weight: weight, inputGradient: dx,
                            weightGradient: weightGrad, biasGradient: biasGrad)
        }
        return needInputGradient ? inputGrad : nil
    }

    /// Floating-point operations of one forward pass for a batch of shape `x`.
    public func forwardFlops(_ x: [Int]) -> Double {
        let g = geometry(x)
        return 2 * Double(outChannels * g.patchSize * x[1] * g.outHeight * g.outWidth)
    }
}
