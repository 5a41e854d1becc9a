import Tensor

/// Inference's trunk as one oneDNN chain (`OneDNNTrunk`): from the model's first layer, the longest run of
/// Conv2d (→ BatchNorm, folded into its weights and bias) (→ ReLU, a post-op) and MaxPool2d, which under
/// `--precision bf16` hands bf16 NHWC activations from stage to stage as PyTorch's channels_last + autocast
/// does, instead of reordering fp32 (C, N, H, W) around every convolution. Extraction's figures are in the
/// README. The layers after it (flatten, classifier) run as before, on its (C, N, H, W) fp32 output.
final class InferenceTrunk {
    /// The layers it runs: 0..<end.
    let end: Int
    private let stages: [OneDNNTrunk.Stage]
    /// Per stage: the convolution and the BatchNorm folded into it; nil for a pooling.
    private let convolutions: [(convolution: Conv2d, batchNorm: BatchNorm?)?]
    private let layers: [Layer]
    private var trunks: [[Int]: OneDNNTrunk] = [:]
    /// Input shapes in the order their trunks were made (the oldest goes first when the cache is full).
    private var order: [[Int]] = []
    /// Per input shape, each stage's folded weights and bias as last handed to oneDNN.
    private var weightsSet: [[Int]: [(weight: [Float], bias: [Float])?]] = [:]
    /// Input shapes oneDNN refused (they run layer by layer).
    private var refused: Set<[Int]> = []
    private let output = Tensor(shape: [0])
    /// How many input shapes' trunks are kept (training batch, last partial batch, extraction's).
    static let cacheSize = 3

    /// The trunk of `layers[0...last]` whose output `kept` (if any) is not inside a fused group; nil when
    /// it would hold no convolution.
    static func plan(_ layers: [Layer], through last: Int, kept: Int?) -> InferenceTrunk? {
        var stages: [OneDNNTrunk.Stage] = []
        var convolutions: [(convolution: Conv2d, batchNorm: BatchNorm?)?] = []
        var i = 0
        while i <= last {
            if let conv = layers[i] as? Conv2d {
                var j = i + 1
                var batchNorm: BatchNorm?
                if j <= last, kept != i, let bn = layers[j] as? BatchNorm, bn.followsConvolution { batchNorm = bn; j += 1 }
                var relu = false
                if j <= last, kept != j - 1, layers[j] is ReLU { relu = true; j += 1 }
                // bf16 Winograd F(2×2, 3×3) (a 5×5 filter as four 3×3 ones) where the layer may run on Winograd and has
                // 128 output channels or more (the trunk takes it only under bf16, on a CPU and shape its kernel
                // supports). With 64 it measured 0.88–0.93× oneDNN's direct kernel (one block of outputs: the
                // transforms weigh more than the products save), with 128–384 1.03–1.51× (Zen 4, one thread).
                let winograd = (conv.winograd ?? KernelBackend.winogradInference) && [3, 5].contains(conv.kernel)
                    && conv.stride == 1 && conv.outChannels >= 128
                stages.append(.convolution(outChannels: conv.outChannels, kernel: conv.kernel, stride: conv.stride,
                                           padding: conv.padding, relu: relu, winograd: winograd))
                convolutions.append((conv, batchNorm))
                i = j
            } else if let pool = layers[i] as? MaxPool2d {
                stages.append(.maxPooling(kernel: pool.kernel, stride: pool.stride))
                convolutions.append(nil)
                i += 1
            } else {
                break
            }
            if kept == i - 1 { break }
        }
        guard convolutions.contains(where: { $0 != nil }) else { return nil }
        return InferenceTrunk(layers: layers, end: i, stages: stages, convolutions: convolutions)
    }

    private init(layers: [Layer], end: Int, stages: [OneDNNTrunk.Stage],
                 convolutions: [(convolution: Conv2d, batchNorm: BatchNorm?)?]) {
        self.layers = layers
        self.end = end
        self.stages = stages
        self.convolutions = convolutions
    }

    /// Whether another plan describes the same layers and stages (the model keeps one trunk per plan).
    func sameLayers(as other: InferenceTrunk) -> Bool { end == other.end && stages == other.stages }

    /// The trunk's output for `x` (C, N, H, W), valid until its next call; nil when oneDNN refuses this
    /// shape or fails (noted once; the caller then runs the layers one by one).
    func forward(_ x: Tensor, precision: Precision) -> Tensor? {
        let shape = x.shape
        if refused.contains(shape) { return nil }
        do {
            let trunk = try self.trunk(for: shape, precision: precision)
            try setWeights(trunk, shape: shape)
            var y = shape
            for layer in layers[..<end] { y = layer.outputShape(y) }
            output.resize(y)
            try trunk.forward(input: x.data, output: output.data)
            for (stage, entry) in convolutions.enumerated() {
                entry?.convolution.trunkKernelName = "onednn-trunk:\(trunk.implementation(stage: stage))"
            }
            return output
        } catch {
            refused.insert(shape)
            trunks[shape] = nil
            order.removeAll { $0 == shape }
            KernelBackend.note("inference trunk \(shape): \(error); these layers run one by one")
            return nil
        }
    }

    private func trunk(for shape: [Int], precision: Precision) throws -> OneDNNTrunk {
        if let t = trunks[shape] { return t }
        let t = try OneDNNTrunk(inputShape: shape, stages: stages, precision: precision)
        if order.count >= Self.cacheSize {
            let oldest = order.removeFirst()
            trunks[oldest] = nil
            weightsSet[oldest] = nil
        }
        trunks[shape] = t
        weightsSet[shape] = [(weight: [Float], bias: [Float])?](repeating: nil, count: stages.count)
        order.append(shape)
        return t
    }

    /// Hands oneDNN each convolution's weights with its BatchNorm folded in, when they changed since the
    /// last call on this shape (inference runs batch after batch on the same weights).
    private func setWeights(_ trunk: OneDNNTrunk, shape: [Int]) throws {
        for (stage, entry) in convolutions.enumerated() {
            guard let (conv, batchNorm) = entry else { continue }
            let affine = batchNorm?.inferenceAffine()
            let folded = conv.folded(scale: affine?.scale, shift: affine?.shift)
            if let last = weightsSet[shape]?[stage], last.weight == folded.weight, last.bias == folded.bias { continue }
            try trunk.setWeights(stage: stage, weights: folded.weight, bias: folded.bias)
            weightsSet[shape]?[stage] = folded
        }
    }
}
