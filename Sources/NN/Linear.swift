import Tensor

/// y = x·Wᵀ + b on (N, F) tensors; W is [out, in] as PyTorch stores it.
/// Initialised as the DeepCluster reference: W ~ N(0, 0.01), b = 0.
public final class Linear: Layer {
    public let name: String
    public let inFeatures, outFeatures: Int
    public let hasBias: Bool
    private var weight: UnsafeMutablePointer<Float>!
    private var bias: UnsafeMutablePointer<Float>?
    private var weightGrad: UnsafeMutablePointer<Float>!
    private var biasGrad: UnsafeMutablePointer<Float>?
    private var input: Tensor?
    private let output = Tensor(shape: [0])
    private let inputGrad = Tensor(shape: [0])
    /// sgemm in fp32, oneDNN's matmul in bf16 (Kernels/LinearKernels).
    private let policy: LinearKernels
    /// Whether the last forward ran in bf16 (its backward then does too).
    private var forwardInBF16 = false

    public init(name: String, in inFeatures: Int, out outFeatures: Int, bias: Bool = true) {
        self.name = name; self.inFeatures = inFeatures; self.outFeatures = outFeatures; hasBias = bias
        policy = LinearKernels(name: name)
    }

    /// This layer's backend and precision, when they are not the process-wide choice (tests run both).
    public var kernels: KernelBackend? {
        get { policy.backend }
        set { policy.backend = newValue }
    }
    public var precision: Precision? {
        get { policy.precision }
        set { policy.precision = newValue }
    }
    /// Whether the last forward ran on oneDNN (bf16, or inference on frozen weights).
    private var forwardOnOneDNN = false
    /// What ran the last product: "sgemm" or "onednn:<implementation>".
    public var lastKernelName: String { forwardOnOneDNN ? policy.lastKernelName : "sgemm" }

    /// Whether the weights stay put until further notice (`Model.withFrozenWeights`): inference then runs on
    /// oneDNN with the weights converted once for every batch, in fp32 as in bf16.
    public var weightsFrozen: Bool {
        get { policy.weightsFrozen }
        set { policy.weightsFrozen = newValue }
    }

    public var parameterSpecs: [TensorSpec] {
        var s = [TensorSpec("weight", [outFeatures, inFeatures], .normal(std: 0.01))]
        if hasBias { s.append(TensorSpec("bias", [outFeatures], .constant(0))) }
        return s
    }

    public func bind(_ s: LayerStorage) {
        weight = s.parameters[0]; weightGrad = s.gradients[0]
        if hasBias { bias = s.parameters[1]; biasGrad = s.gradients[1] }
    }

    public func outputShape(_ x: [Int]) -> [Int] { [x[0], outFeatures] }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        precondition(x.shape.count == 2 && x.shape[1] == inFeatures, "\(name): expected (N, \(inFeatures)), got \(x.shape)")
        input = x
        let n = x.shape[0]
        output.resize([n, outFeatures])
        // y = x·Wᵀ + b: B = Wᵀ, read in place from W's [out, in] rows.
        forwardInBF16 = false
        forwardOnOneDNN = !mode.backward && policy.frozen
            && policy.runFrozen(forwardShape(n), a: x.data, b: weight, bias: bias, c: output.data)
        if forwardOnOneDNN { return output }
        forwardInBF16 = policy.bf16 && policy.run(forwardShape(n), a: x.data, b: weight, bias: bias, c: output.data)
        forwardOnOneDNN = forwardInBF16
        if forwardInBF16 { return output }
        BLAS.sgemm(transB: true, m: n, n: outFeatures, k: inFeatures, a: x.data, lda: inFeatures,
                   b: weight, ldb: inFeatures, c: output.data, ldc: outFeatures)
        if let b = bias {
            for i in 0..<n {
                let row = output.data + i * outFeatures
                for j in 0..<outFeatures { row[j] += b[j] }
            }
        }
        return output
    }

    /// The forward's product: y = x·Wᵀ + b, B = Wᵀ read in place from W's [out, in] rows.
    private func forwardShape(_ n: Int) -> OneDNNMatmul.Shape {
        .init(m: n, n: outFeatures, k: inFeatures, aRow: inFeatures, aColumn: 1, bRow: 1, bColumn: inFeatures,
              bias: bias != nil, accumulate: false)
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard let x = input else { preconditionFailure("\(name): backward before forward") }
        let n = x.shape[0]
        // dW[out, in] += dYᵀ · X
        let bf16 = forwardInBF16 && policy.run(
            .init(m: outFeatures, n: inFeatures, k: n, aRow: 1, aColumn: outFeatures, bRow: inFeatures, bColumn: 1,
                  bias: false, accumulate: true),
            a: dy.data, b: x.data, bias: nil, c: weightGrad)
        if !bf16 {
            BLAS.sgemm(transA: true, m: outFeatures, n: inFeatures, k: n, a: dy.data, lda: outFeatures,
                       b: x.data, ldb: inFeatures, beta: 1, c: weightGrad, ldc: inFeatures)
        }
        if let bg = biasGrad {
            for i in 0..<n {
                let row = dy.data + i * outFeatures
                for j in 0..<outFeatures { bg[j] += row[j] }
            }
        }
        guard needInputGradient else { return nil }
        inputGrad.resize([n, inFeatures])
        // dX = dY · W, on the bf16 W the forward converted (the weights have not moved since).
        if !(bf16 && policy.run(.init(m: n, n: inFeatures, k: outFeatures, aRow: outFeatures, aColumn: 1, bRow: inFeatures,
                                      bColumn: 1, bias: false, accumulate: false),
                                a: dy.data, b: weight, bias: nil, c: inputGrad.data, reusing: forwardShape(n))) {
            BLAS.sgemm(m: n, n: inFeatures, k: outFeatures, a: dy.data, lda: outFeatures, b: weight, ldb: inFeatures,
                       c: inputGrad.data, ldc: inFeatures)
        }
        return inputGrad
    }

    public func forwardFlops(_ x: [Int]) -> Double { 2 * Double(x[0] * inFeatures * outFeatures) }
}
