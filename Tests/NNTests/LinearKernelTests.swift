import NN
import Tensor
import Testing

/// Linear layers under bf16 (oneDNN's matmul, fp32 accumulation) against the same layer in fp32 (OpenBLAS's
/// sgemm): the forward, ∂x and the accumulated ∂w and ∂b, for the three products' layouts (B = Wᵀ read in
/// place, A = dYᵀ, B = W).
@Suite struct LinearKernelTests {
    @Test(arguments: [(37, 96, 40, true), (5, 576, 256, true), (16, 64, 300, false)])
    func bf16StaysWithinBF16RoundingOfFP32(batch: Int, inFeatures: Int, outFeatures: Int, bias: Bool) {
        func make(_ p: Precision) -> (Linear, LayerHarness) {
            let l = Linear(name: "linear", in: inFeatures, out: outFeatures, bias: bias)
            l.kernels = .onednn
            l.precision = p
            return (l, LayerHarness(l, seed: 5))
        }
        let (f, fh) = make(.fp32), (b, bh) = make(.bf16)
        let x = randomTensor([batch, inFeatures], seed: 21)
        let yf = f.forward(x, mode: .train).array.map(Double.init)
        let yb = b.forward(x, mode: .train).array.map(Double.init)
        // Where oneDNN has no bf16 matmul (a CPU without AVX-512), the layer computes in fp32, with one note.
        let ranOnOneDNN = b.lastKernelName.hasPrefix("onednn:")
        if KernelBackend.hasNativeBF16 { #expect(ranOnOneDNN, "ran \(b.lastKernelName)") }
        if !ranOnOneDNN { #expect(KernelBackend.notes.contains { $0.contains("linear") && $0.contains("fp32 on sgemm") }) }
        // Measured on Zen 4: 0.0019–0.0031 for every product here.
        let tolerance = ranOnOneDNN ? 8e-3 : 1e-6
        #expect(f.lastKernelName == "sgemm")
        #expect(relativeError(yb, yf) < tolerance, "forward")
        // Gradients accumulate: start both from the same non-zero values.
        for h in [fh, bh] { for (t, g) in h.gradients.enumerated() { for i in 0..<g.count { g[i] = Float(t + 1) * 4 } } }
        let dy = randomTensor([batch, outFeatures], seed: 22)
        let dxf = f.backward(dy, needInputGradient: true)!.array.map(Double.init)
        let dxb = b.backward(dy, needInputGradient: true)!.array.map(Double.init)
        #expect(relativeError(dxb, dxf) < tolerance, "input gradient")
        for t in fh.gradients.indices {
            let gf = Array(fh.gradients[t]).map(Double.init), gb = Array(bh.gradients[t]).map(Double.init)
            // Subtract the starting value: the comparison is of what the backward added.
            let start = Double(t + 1) * 4
            #expect(relativeError(gb.map { $0 - start }, gf.map { $0 - start }) < tolerance, "parameter gradient \(t)")
        }
    }

    /// Inference on frozen weights (`Model.withFrozenWeights`: extraction) runs on oneDNN with the weights converted
    /// once into its blocked layout: fp32 agrees with sgemm to float rounding, bf16 stays within bf16's rounding; a
    /// partial batch gets its own product; once the weights thaw, new weights are read again.
    @Test(arguments: [Precision.fp32, .bf16])
    func frozenWeightsRunOnOneDNNAndThaw(precision: Precision) {
        let frozen = Linear(name: "frozen", in: 576, out: 256), plain = Linear(name: "plain", in: 576, out: 256)
        for layer in [frozen, plain] { layer.kernels = .onednn }
        frozen.precision = precision
        plain.precision = .fp32
        let fh = LayerHarness(frozen, seed: 7), ph = LayerHarness(plain, seed: 7)
        for (f, p) in zip(fh.parameters, ph.parameters) { for i in 0..<f.count { f[i] = p[i] == 0 ? 0.05 : p[i] } }
        for (f, p) in zip(fh.parameters, ph.parameters) { for i in 0..<f.count { p[i] = f[i] } }
        let bf16 = precision == .bf16 && KernelBackend.hasNativeBF16
        // fp32: the two differ in the order of their sums only (measured on Zen 4: 3e-7). bf16 as the training's test.
        let tolerance = bf16 ? 8e-3 : 1e-5
        func check(_ batch: Int, seed: UInt64) {
            let x = randomTensor([batch, 576], seed: seed)
            let y = frozen.forward(x, mode: .eval).array.map(Double.init)
            let expected = plain.forward(x, mode: .eval).array.map(Double.init)
            #expect(plain.lastKernelName == "sgemm")
            if precision == .fp32 || KernelBackend.hasNativeBF16 {
                #expect(frozen.lastKernelName.hasPrefix("onednn:"), "ran \(frozen.lastKernelName)")
            }
            #expect(relativeError(y, expected) < tolerance, "batch \(batch)")
        }
        frozen.weightsFrozen = true
        check(64, seed: 31)
        check(64, seed: 32)  // the converted weights again
        check(13, seed: 33)  // the last, partial batch
        frozen.weightsFrozen = false
        // Thawed: SGD moves the weights; the next frozen pass converts them again.
        for (f, p) in zip(fh.parameters, ph.parameters) { for i in 0..<f.count { f[i] *= -1.5; p[i] = f[i] } }
        frozen.weightsFrozen = true
        check(64, seed: 34)
        frozen.weightsFrozen = false
        // Training's forward never takes the frozen product.
        frozen.weightsFrozen = true
        _ = frozen.forward(randomTensor([8, 576], seed: 35), mode: .train)
        if precision == .fp32 { #expect(frozen.lastKernelName == "sgemm") }
        frozen.weightsFrozen = false
    }

    /// A model's extraction inside `withFrozenWeights` gives its features as outside (fp32: to float rounding), and
    /// leaves every Linear thawed, so that a training step after it converts its new weights.
    @Test func aModelsFrozenPassAgreesAndThaws() throws {
        let model = Model(architecture: try Architecture.named("fmnist-alexnet"), numClasses: 10, seed: 3)
        let x = randomTensor([1, 40, 28, 28], seed: 41)
        let outside = model.forward(x, mode: .eval, through: model.featureLayer).array.map(Double.init)
        let inside = model.withFrozenWeights {
            model.forward(x, mode: .eval, through: model.featureLayer).array.map(Double.init)
        }
        #expect(relativeError(inside, outside) < 1e-5)
        #expect(model.layers.compactMap { $0 as? Linear }.allSatisfy { !$0.weightsFrozen })
    }
}
