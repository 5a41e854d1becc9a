import NN
import Tensor
import Testing

/// Inference's trunk as one oneDNN chain in NHWC (`InferenceTrunk`: convolutions with their BatchNorm
/// folded and ReLU as a post-op, max-poolings) against the same layers run one by one. In fp32 the two
/// agree to float rounding on any CPU; in bf16 (CPUs with AVX512-BF16 or AMX) the chain also rounds the
/// activations between its stages to bf16, as PyTorch's autocast does.
@Suite struct InferenceTrunkTests {
    /// A model with non-trivial BatchNorm statistics and affine parameters, its convolutions in `precision`.
    static func model(_ architecture: Architecture, precision: Precision) -> Model {
        let m = Model(architecture: architecture, numClasses: 10, seed: 3)
        m.useKernels(.onednn)
        for layer in m.layers { (layer as? Conv2d)?.precision = .fp32 }
        let input = [architecture.inputChannels, 4, architecture.inputSize, architecture.inputSize]
        for s in 0..<2 { _ = m.forward(randomTensor(input, seed: 40 + UInt64(s), scale: 2), mode: .train) }
        var rng = RandomGenerator(seed: 9, purpose: .synthetic)
        for (i, layer) in m.layers.enumerated() where layer is BatchNorm {
            let r = m.parameterRanges[i], half = r.count / 2
            for j in r { m.store.parameters[j] = j - r.lowerBound < half ? Float(0.5 + rng.uniform()) : Float(rng.uniform() - 0.5) }
        }
        for layer in m.layers { (layer as? Conv2d)?.precision = precision }
        return m
    }

    /// The chain's features and the layers' one by one, on the same model and input.
    static func both(_ m: Model, _ x: Tensor, through: Int, precision: Precision) -> (chain: [Double], layers: [Double]) {
        m.trunkPrecisions = [precision]
        let chain = m.forward(x, mode: .eval, through: through).array.map(Double.init)
        #expect(m.lastLayout == "NHWC", "the chain ran")
        m.trunkPrecisions = []
        let layers = m.forward(x, mode: .eval, through: through).array.map(Double.init)
        #expect(m.lastLayout == "CNHW")
        return (chain, layers)
    }

    @Test func theFP32ChainGivesTheLayersValues() {
        let m = Self.model(.fmnistAlexNet, precision: .fp32)
        let bnAfterConv2 = m.layers.firstIndex { $0.name == "features.5" }!
        // The clustering feature, a probe that ends on a BatchNorm, and a partial batch (its own primitives).
        for (batch, through) in [(24, m.featureLayer), (24, bnAfterConv2), (7, m.featureLayer)] {
            let x = randomTensor([1, batch, 28, 28], seed: 5)
            let (chain, layers) = Self.both(m, x, through: through, precision: .fp32)
            #expect(chain.count == layers.count && relativeError(chain, layers) < 1e-5, "batch \(batch) through \(m.layers[through].name)")
        }
        m.trunkPrecisions = [.fp32]
        _ = m.forward(randomTensor([1, 24, 28, 28], seed: 5), mode: .eval, through: m.featureLayer)
        let names = m.layers.compactMap { ($0 as? Conv2d)?.lastKernelName }
        #expect(names.count == 6 && names.allSatisfy { $0.hasPrefix("onednn-trunk:") }, "\(names)")
        // New weights (the next epoch's) reach the chain: it re-reads them whenever they change.
        for j in 0..<m.parameterCount { m.store.parameters[j] *= 1.01 }
        let x = randomTensor([1, 24, 28, 28], seed: 6)
        let (chain, layers) = Self.both(m, x, through: m.featureLayer, precision: .fp32)
        #expect(relativeError(chain, layers) < 1e-5, "after a weight update")
    }

    /// AlexNet at its own size: the RGB → grey 1×1 convolution, 11×11 stride 4, 3×3 stride-2 poolings.
    @Test func theFP32ChainRunsAlexNetsTrunk() {
        let m = Self.model(.alexnet, precision: .fp32)
        let flatten = m.layers.firstIndex { $0 is Flatten }! - 1
        let (chain, layers) = Self.both(m, randomTensor([3, 2, 224, 224], seed: 7), through: flatten, precision: .fp32)
        #expect(chain.count == layers.count && relativeError(chain, layers) < 1e-5)
    }

    /// AlexNet in bf16: conv2's 5×5 (96 → 256) as four 3×3 Winograd convolutions, conv3–conv5 as one each.
    /// Measured on Zen 4: 0.0094 against fp32, 0.0097 on oneDNN's direct kernels.
    @Test(.enabled(if: KernelBackend.hasNativeBF16, "bf16 runs only on CPUs with AVX512-BF16 or AMX"))
    func theBF16ChainRunsAlexNetsTrunkOnWinograd() {
        let m = Self.model(.alexnet, precision: .bf16)
        let flatten = m.layers.firstIndex { $0 is Flatten }! - 1
        let x = randomTensor([3, 2, 224, 224], seed: 7)
        let (chain, _) = Self.both(m, x, through: flatten, precision: .bf16)
        m.trunkPrecisions = [.bf16]
        _ = m.forward(x, mode: .eval, through: flatten)
        let names = m.layers.compactMap { ($0 as? Conv2d)?.lastKernelName }
        #expect(names.filter { $0 == "onednn-trunk:winograd:4xf2x3-bf16" }.count == 1, "conv2: \(names)")
        #expect(names.filter { $0 == "onednn-trunk:winograd:f2x3-bf16" }.count == 3, "conv3–conv5: \(names)")
        for layer in m.layers { (layer as? Conv2d)?.precision = .fp32 }
        m.trunkPrecisions = []
        let fp32 = m.forward(x, mode: .eval, through: flatten).array.map(Double.init)
        #expect(relativeError(chain, fp32) < 2e-2, "bf16 chain against fp32: \(relativeError(chain, fp32))")
    }

    @Test(.enabled(if: KernelBackend.hasNativeBF16, "bf16 runs only on CPUs with AVX512-BF16 or AMX"))
    func theBF16ChainStaysWithinBF16RoundingOfFP32() {
        let m = Self.model(.fmnistAlexNet, precision: .bf16)
        let x = randomTensor([1, 24, 28, 28], seed: 5)
        let (chain, layers) = Self.both(m, x, through: m.featureLayer, precision: .bf16)
        for layer in m.layers { (layer as? Conv2d)?.precision = .fp32 }
        m.trunkPrecisions = []
        let fp32 = m.forward(x, mode: .eval, through: m.featureLayer).array.map(Double.init)
        // Measured on Zen 4: 0.0046 layer by layer, 0.0054 the chain, 0.0020 between the two (a chain without its
        // ReLU post-ops is off by 3.2).
        #expect(relativeError(layers, fp32) < 1e-2, "bf16 layer by layer against fp32")
        #expect(relativeError(chain, fp32) < 1e-2, "bf16 chain against fp32")
        #expect(relativeError(chain, layers) < 1e-2, "bf16 chain against bf16 layer by layer")
        // conv3 and conv4 (3×3, 128 outputs) ran as bf16 Winograd F(2×2, 3×3), conv2 and conv5 (64 outputs) on
        // oneDNN's direct kernels; without Winograd, all four on oneDNN's. Measured on Zen 4: 0.0079 against fp32
        // with it, 0.0064 without (largest difference over the largest value).
        for layer in m.layers { (layer as? Conv2d)?.precision = .bf16 }
        m.trunkPrecisions = [.bf16]
        #expect(m.forward(x, mode: .eval, through: m.featureLayer).array.map(Double.init) == chain)
        let names = m.layers.compactMap { ($0 as? Conv2d)?.lastKernelName }
        #expect(names.filter { $0 == "onednn-trunk:winograd:f2x3-bf16" }.count == 2, "conv3 and conv4: \(names)")
        for layer in m.layers { (layer as? Conv2d)?.winograd = false }
        let direct = m.forward(x, mode: .eval, through: m.featureLayer).array.map(Double.init)
        let directNames = m.layers.compactMap { ($0 as? Conv2d)?.lastKernelName }
        #expect(!directNames.contains { $0.contains("winograd") }, "\(directNames)")
        #expect(relativeError(direct, fp32) < 1e-2, "bf16 direct chain against fp32")
        #expect(relativeError(chain, fp32) < 2 * relativeError(direct, fp32) + 2e-3, "Winograd's chain stays near the direct one's error")
    }
}
