import Tensor

/// Training's trunk as one oneDNN chain (`OneDNNTrainingTrunk`): from the model's first layer, the longest
/// run of Conv2d, BatchNorm on batch statistics (→ ReLU, fused into it) and MaxPool2d, which under
/// `--precision bf16` hands bf16 NHWC activations and gradients from stage to stage, as PyTorch's
/// channels_last + autocast does, instead of converting fp32 (C, N, H, W) around every convolution and
/// running the trainer's own fp32 BatchNorm, ReLU and pooling between them. BatchNorm's statistics and
/// parameters, the weights SGD updates and every gradient stay fp32 in the model's flat buffers: weights
/// are reordered into the primitives' layouts every forward, gradients added into the flat buffer stage by
/// stage, so the allreduce buckets start as before. The step's figures are in the README.
final class TrainingTrunk {
    /// The layers it runs: 0..<end.
    let end: Int
    private let layers: [Layer]
    private let stages: [OneDNNTrainingTrunk.Planned]
    /// Per stage, the layers it covers (a BatchNorm and its fused ReLU are one stage).
    private let covered: [ClosedRange<Int>]
    private var trunks: [[Int]: OneDNNTrainingTrunk] = [:]
    private var order: [[Int]] = []
    private var refused: Set<[Int]> = []
    /// The trunk the last forward ran, which its backward follows.
    private var last: OneDNNTrainingTrunk?
    private let output = Tensor(shape: [0])
    /// How many input shapes' trunks are kept (the training batch and the epoch's last, partial one).
    static let cacheSize = 2

    /// The trunk of `layers[0...last]`, none of whose fused groups hides `kept`; nil when it would hold no
    /// convolution. `firstTrainable`: the first layer with parameters (no gradient flows below it).
    static func plan(_ layers: [Layer], through last: Int, kept: Int?, firstTrainable: Int) -> TrainingTrunk? {
        var stages: [OneDNNTrainingTrunk.Planned] = []
        var covered: [ClosedRange<Int>] = []
        var i = 0
        while i <= last {
            let inputGradient = i > firstTrainable
            if let conv = layers[i] as? Conv2d {
                stages.append(.init(stage: .convolution(outChannels: conv.outChannels, kernel: conv.kernel, stride: conv.stride,
                                                        padding: conv.padding),
                                    inputGradient: inputGradient, weightGradient: conv.trainable))
                covered.append(i...i)
            } else if let bn = layers[i] as? BatchNorm, bn.followsConvolution, !stages.isEmpty {
                let relu = i + 1 <= last && kept != i && layers[i + 1] is ReLU
                stages.append(.init(stage: .batchNorm(relu: relu, epsilon: bn.eps), inputGradient: inputGradient, weightGradient: true))
                covered.append(i...(relu ? i + 1 : i))
            } else if let pool = layers[i] as? MaxPool2d {
                stages.append(.init(stage: .maxPooling(kernel: pool.kernel, stride: pool.stride), inputGradient: inputGradient,
                                    weightGradient: false))
                covered.append(i...i)
            } else {
                break
            }
            i = covered.last!.upperBound + 1
            if kept == i - 1 { break }
        }
        guard covered.contains(where: { layers[$0.lowerBound] is Conv2d }) else { return nil }
        return TrainingTrunk(layers: layers, end: i, stages: stages, covered: covered)
    }

    private init(layers: [Layer], end: Int, stages: [OneDNNTrainingTrunk.Planned], covered: [ClosedRange<Int>]) {
        self.layers = layers
        self.end = end
        self.stages = stages
        self.covered = covered
    }

    /// Whether another plan describes the same layers and stages (the model keeps one trunk per plan).
    func sameLayers(as other: TrainingTrunk) -> Bool { end == other.end && stages == other.stages }

    /// The trunk's output for `x` (C, N, H, W) in training, valid until its next call; the BatchNorms'
    /// running statistics are updated as their own forward would. Nil when oneDNN refuses this shape or
    /// fails (noted once; the caller then runs the layers one by one).
    func forward(_ x: Tensor, precision: Precision) -> Tensor? {
        let shape = x.shape
        last = nil
        if refused.contains(shape) { return nil }
        do {
            let trunk = try self.trunk(for: shape, precision: precision)
            for stage in covered.indices {
                if let p = parameters(stage) { try trunk.setParameters(stage: stage, p.values.0, p.values.1) }
            }
            var y = shape
            var counts: [Int] = []
            for range in covered {
                counts.append(y[1] * y[2] * y[3])
                for layer in layers[range] { y = layer.outputShape(y) }
            }
            output.resize(y)
            try trunk.forward(input: x.data, output: output.data)
            for (stage, range) in covered.enumerated() {
                if let bn = layers[range.lowerBound] as? BatchNorm, let s = trunk.statistics(stage: stage) {
                    bn.recordBatchStatistics(mean: s.mean, variance: s.variance, count: counts[stage])
                }
                (layers[range.lowerBound] as? Conv2d)?.trunkKernelName = "onednn-trunk:\(trunk.implementation(stage: stage))"
            }
            last = trunk
            return output
        } catch {
            refused.insert(shape)
            trunks[shape] = nil
            order.removeAll { $0 == shape }
            KernelBackend.note("training trunk \(shape): \(error); these layers run one by one")
            return nil
        }
    }

    /// Back-propagates `dy` (the gradient of the last forward's output) through the stages, adding parameter
    /// gradients into the flat buffer; `layerDone(i)` is called for each layer, from the last down to
    /// `firstTrainable`, once its gradients are final.
    func backward(_ dy: Tensor, firstTrainable: Int, layerDone: ((Int) -> Void)?) {
        guard let trunk = last else { preconditionFailure("TrainingTrunk.backward before a training forward") }
        do {
            try trunk.beginBackward(outputGradient: dy.data)
            for stage in stride(from: covered.count - 1, through: 0, by: -1) {
                let range = covered[stage]
                if range.upperBound < firstTrainable { break }
                let p = parameters(stage)
                try trunk.backward(stage: stage, p?.gradients.0, p?.gradients.1)
                for i in range.reversed() where i >= firstTrainable { layerDone?(i) }
            }
        } catch {
            // Every primitive was made and ran forward on this shape; a failure here is oneDNN's own.
            fatalError("training trunk backward: \(error)")
        }
    }

    /// Stage `stage`'s parameters and their gradients in the flat buffers (nil gradients: not trained): a
    /// convolution's weights and bias, a BatchNorm's γ and β; nil for a pooling.
    private func parameters(_ stage: Int) -> (values: (UnsafePointer<Float>, UnsafePointer<Float>),
                                              gradients: (UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?))? {
        switch layers[covered[stage].lowerBound] {
        case let conv as Conv2d:
            let p = conv.trainingParameters
            return ((p.weight, p.bias), (p.weightGradient, p.biasGradient))
        case let bn as BatchNorm:
            let p = bn.trainingParameters
            return ((p.gamma, p.beta), (p.gammaGradient, p.betaGradient))
        default:
            return nil
        }
    }

    private func trunk(for shape: [Int], precision: Precision) throws -> OneDNNTrainingTrunk {
        if let t = trunks[shape] { return t }
        let t = try OneDNNTrainingTrunk(inputShape: shape, stages: stages, precision: precision)
        if order.count >= Self.cacheSize { trunks[order.removeFirst()] = nil }
        trunks[shape] = t
        order.append(shape)
        return t
    }
}
