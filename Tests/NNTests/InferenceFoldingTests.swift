import NN
import Tensor
import Testing

/// Extraction as inference: in eval mode a convolution, its BatchNorm and its ReLU run as one folded
/// convolution (the BatchNorm in the weights and bias, the ReLU a oneDNN post-op), and pooling keeps
/// no argmax. Both must give what the layers give one by one, to float rounding, on both backends.
@Suite struct InferenceFoldingTests {
    /// A model whose BatchNorm layers hold non-trivial running statistics and affine parameters
    /// (at initialisation they are the identity, which would hide a wrong fold).
    static func model(_ backend: KernelBackend) -> Model {
        let m = Model(architecture: .fmnistAlexNet, numClasses: 10, seed: 3)
        m.useKernels(backend)
        for s in 0..<3 { _ = m.forward(randomTensor([1, 32, 28, 28], seed: 40 + UInt64(s), scale: 2), mode: .train) }
        var rng = RandomGenerator(seed: 9, purpose: .synthetic)
        for (i, layer) in m.layers.enumerated() where layer is BatchNorm {
            let r = m.parameterRanges[i], half = r.count / 2
            for j in r { m.store.parameters[j] = j - r.lowerBound < half ? Float(0.5 + rng.uniform()) : Float(rng.uniform() - 0.5) }
        }
        return m
    }

    @Test(arguments: [KernelBackend.onednn, .reference]) func foldedFeaturesMatchTheLayersOneByOne(_ backend: KernelBackend) {
        let m = Self.model(backend)
        let x = randomTensor([1, 24, 28, 28], seed: 5)
        // The clustering feature, and probes that end inside a group (after a BatchNorm, after a ReLU).
        let bnAfterConv2 = m.layers.firstIndex { $0.name == "features.5" }!
        for through in [m.featureLayer, bnAfterConv2, bnAfterConv2 + 1] {
            m.foldsForInference = true
            let folded = m.forward(x, mode: .eval, through: through).array.map(Double.init)
            m.foldsForInference = false
            let plain = m.forward(x, mode: .eval, through: through).array.map(Double.init)
            #expect(folded.count == plain.count && relativeError(folded, plain) < 1e-5, "through \(m.layers[through].name)")
        }
    }

    @Test(arguments: [(2, 2), (3, 2), (3, 3)]) func evalPoolingGivesTheTrainingPathsValues(kernel: Int, step: Int) {
        let pool = MaxPool2d(name: "pool", kernel: kernel, stride: step)
        let x = randomTensor([3, 4, 13, 12], seed: 8)
        for i in stride(from: 0, to: x.count, by: 7) { x[i] = x[i + 1] }   // ties
        let train = pool.forward(x, mode: .train).array
        let eval = pool.forward(x, mode: .eval).array
        #expect(train == eval)
    }
}
