import NN
import Tensor
import Testing

/// In training a BatchNorm and the ReLU after it run as one pass (`Model.fusesBatchNormReLU`). The
/// outputs, the parameter gradients and the running statistics must be bit for bit those of the two
/// layers one by one, for the trunk's (C, N, H, W) BatchNorm and DeepCluster-v2's BatchNorm1d alike.
@Suite struct BatchNormReLUFusionTests {
    /// Two steps of forward and backward from one seed; the model's output, its gradients after the
    /// second step and its buffers (running statistics).
    static func steps(_ head: Model.Head, fused: Bool) -> (output: [Float], gradients: [Float], buffers: [Float]) {
        let m = Model(architecture: .fmnistAlexNet.withDropout(0), head: head, seed: 4)
        m.useKernels(.reference)
        m.fusesBatchNormReLU = fused
        // Non-trivial γ and β, so that the ReLU masks depend on them (β < 0 kills whole channels' halves).
        var rng = RandomGenerator(seed: 11, purpose: .synthetic)
        for (i, layer) in m.layers.enumerated() where layer is BatchNorm {
            let r = m.parameterRanges[i], half = r.count / 2
            for j in r { m.store.parameters[j] = j - r.lowerBound < half ? Float(0.5 + rng.uniform()) : Float(rng.uniform() - 0.5) }
        }
        var output: [Float] = []
        m.zeroGradients()
        for s in 0..<2 {
            let y = m.forward(randomTensor([1, 8, 28, 28], seed: 20 + UInt64(s)), mode: .train)
            output = y.array
            m.backward(randomTensor(y.shape, seed: 30 + UInt64(s)))
        }
        return (output, Array(m.store.gradients), Array(m.store.buffers))
    }

    @Test(arguments: [Model.Head.classifier(clusters: 10), .prototypes(hidden: 32, dimension: 16, clusters: [10, 12])])
    func fusedTrainingIsTheLayersOneByOneBitForBit(_ head: Model.Head) {
        let fused = Self.steps(head, fused: true), plain = Self.steps(head, fused: false)
        // Counts of differing values (an #expect on the arrays themselves would print them whole).
        func differing(_ a: [Float], _ b: [Float]) -> Int { a.count == b.count ? zip(a, b).filter { $0 != $1 }.count : -1 }
        #expect(differing(fused.output, plain.output) == 0)
        #expect(differing(fused.gradients, plain.gradients) == 0)
        #expect(differing(fused.buffers, plain.buffers) == 0)
        // The ReLU masks cut: some gradients of the first BatchNorm's input are zero, most are not.
        #expect(plain.gradients.contains { $0 != 0 })
    }

    @Test func aBatchNormKeptAloneIsNotFused() {
        // A forward that ends at the BatchNorm hands back its output before the ReLU (negative values kept).
        let m = Model(architecture: .fmnistAlexNet, numClasses: 10, seed: 4)
        m.useKernels(.reference)
        let bn = m.layers.firstIndex { $0.name == "features.1" }!
        let y = m.forward(randomTensor([1, 4, 28, 28], seed: 2), mode: .train, through: bn)
        #expect(y.array.contains { $0 < 0 })
        let z = m.forward(randomTensor([1, 4, 28, 28], seed: 2), mode: .train, through: bn + 1)
        #expect(!z.array.contains { $0 < 0 } && z.array.contains { $0 > 0 })
    }
}
