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
}
