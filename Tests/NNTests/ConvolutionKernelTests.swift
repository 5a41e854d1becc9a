import NN
import Tensor
import Testing

/// oneDNN's convolutions against the im2col + sgemm reference on the same weights and inputs:
/// outputs, input gradients and accumulated parameter gradients, in training and inference.
@Suite struct ConvolutionKernelTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let inChannels, outChannels, kernel, stride, padding: Int
        let input: [Int]
        var testDescription: String { "\(inChannels)→\(outChannels) k\(kernel) s\(stride) p\(padding) on \(input)" }
    }

    static let cases = [
        Case(inChannels: 1, outChannels: 2, kernel: 3, stride: 1, padding: 1, input: [1, 4, 28, 28]),   // Sobel
        Case(inChannels: 2, outChannels: 32, kernel: 5, stride: 1, padding: 2, input: [2, 3, 28, 28]),  // conv1
        Case(inChannels: 32, outChannels: 64, kernel: 5, stride: 1, padding: 2, input: [32, 5, 14, 14]),
        Case(inChannels: 64, outChannels: 128, kernel: 3, stride: 1, padding: 1, input: [64, 2, 7, 7]),
        Case(inChannels: 3, outChannels: 8, kernel: 11, stride: 4, padding: 2, input: [3, 2, 35, 33]),  // AlexNet's first, odd sizes
        Case(inChannels: 5, outChannels: 7, kernel: 3, stride: 2, padding: 0, input: [5, 3, 10, 9]),
        Case(inChannels: 3, outChannels: 1, kernel: 1, stride: 1, padding: 0, input: [3, 2, 6, 6]),     // RGB → grey
    ]

    /// Two copies of one convolution with the same weights, one per backend.
    static func pair(_ c: Case) -> (reference: (Conv2d, LayerHarness), onednn: (Conv2d, LayerHarness)) {
        func make(_ k: KernelBackend) -> (Conv2d, LayerHarness) {
            let conv = Conv2d(name: "conv", in: c.inChannels, out: c.outChannels, kernel: c.kernel, stride: c.stride, padding: c.padding)
            conv.kernels = k
            return (conv, LayerHarness(conv, seed: 5))
        }
        return (make(.reference), make(.onednn))
    }

    @Test(arguments: cases) func oneDNNMatchesTheReference(_ c: Case) throws {
        let (r, o) = Self.pair(c)
        let x = randomTensor(c.input, seed: 21)
        for mode in [Mode.train, Mode.eval] {
            let yr = r.0.forward(x, mode: mode).array.map(Double.init)
            let yo = o.0.forward(x, mode: mode).array.map(Double.init)
            // 3×3 and 5×5 stride-1 shapes run on Winograd (WinogradConvolutionTests, WinogradTrainingTests) from 32 input
            // channels on (training's under KernelBackend.winogradTraining); a training shape below 64 runs its forward
            // there and its backward on oneDNN (SplitConvolution: "winograd:f2x5+onednn:…").
            let winograd = (mode == .eval || KernelBackend.winogradTraining) && c.inChannels >= 32
                && (c.kernel == 3 || c.kernel == 5) && c.stride == 1 && c.outChannels >= 16
            let split = winograd && mode == .train && c.inChannels < 64
            // A training shape whose oneDNN weight gradient is im2col + gemm ("gemm:jit": on AVX2, the
            // two-channel conv1 after Sobel among others) trains on im2col + OpenBLAS instead (ConvolutionKernels.onOpenBLAS); inference stays on oneDNN.
            let ran = o.0.lastKernelName
            #expect(ran.hasPrefix(winograd ? "winograd:" : "onednn:") || (mode == .train && !winograd && ran == "im2col"), "ran \(ran)")
            #expect(ran.contains("+onednn:") == split, "ran \(ran)")
            #expect(yr.count == yo.count)
            #expect(relativeError(yo, yr) < 1e-5, "\(mode) forward")
        }
        _ = r.0.forward(x, mode: .train)
        _ = o.0.forward(x, mode: .train)
        let dy = randomTensor(r.0.outputShape(c.input), seed: 22)
        // Gradients accumulate: start both from the same non-zero values.
        for h in [r.1, o.1] { for (t, g) in h.gradients.enumerated() { for i in 0..<g.count { g[i] = Float(t + 1) * 0.25 } } }
        let dxr = r.0.backward(dy, needInputGradient: true)!.array.map(Double.init)
        let dxo = o.0.backward(dy, needInputGradient: true)!.array.map(Double.init)
        #expect(relativeError(dxo, dxr) < 1e-5, "input gradient")
        for t in 0..<2 {
            let gr = Array(r.1.gradients[t]).map(Double.init), go = Array(o.1.gradients[t]).map(Double.init)
            #expect(relativeError(go, gr) < 1e-5, "parameter gradient \(t)")
        }
        // Backward without the input gradient still accumulates the parameters'.
        let before = Array(o.1.gradients[0])
        #expect(o.0.backward(dy, needInputGradient: false) == nil)
        let added = zip(Array(o.1.gradients[0]), before).map { Double($0 - $1) }
        let once = Array(r.1.gradients[0]).map { Double($0 - 0.25) }   // the reference's one backward
        #expect(relativeError(added, once) < 1e-5)
    }

    /// The primitives are cached per shape: a new batch size makes new ones, and going back reuses.
    @Test func batchSizesChangeFromCallToCall() {
        let c = Case(inChannels: 4, outChannels: 6, kernel: 3, stride: 1, padding: 1, input: [4, 1, 8, 8])
        let (r, o) = Self.pair(c)
        for n in [3, 5, 1, 3, 6, 2, 7] {
            let x = randomTensor([4, n, 8, 8], seed: UInt64(n))
            let yr = r.0.forward(x, mode: .train).array.map(Double.init)
            let yo = o.0.forward(x, mode: .train).array.map(Double.init)
            #expect(relativeError(yo, yr) < 1e-5, "batch \(n)")
            let dy = randomTensor(r.0.outputShape(x.shape), seed: 9)
            let dxr = r.0.backward(dy, needInputGradient: true)!.array.map(Double.init)
            let dxo = o.0.backward(dy, needInputGradient: true)!.array.map(Double.init)
            #expect(relativeError(dxo, dxr) < 1e-5, "batch \(n) input gradient")
        }
    }

    /// Fashion-MNIST's conv1 (2 → 32 after Sobel): where oneDNN's weight gradient for it is im2col + gemm,
    /// training runs on im2col + OpenBLAS while inference stays on oneDNN, and an inference forward between
    /// a training forward and its backward leaves the backward right.
    @Test func theFirstConvolutionTrainsOnOpenBLASWhereOneDNNsWeightGradientIsGemm() {
        let c = Self.cases[1]
        let (r, o) = Self.pair(c)
        let x = randomTensor(c.input, seed: 41), other = randomTensor([2, 5, 28, 28], seed: 42)
        _ = o.0.forward(x, mode: .train)
        let trained = o.0.lastKernelName
        #expect(trained == "im2col" || trained.hasPrefix("onednn:"), "ran \(trained)")
        if KernelBackend.instructionSet == "avx2" { #expect(trained == "im2col", "oneDNN 2.6's avx2 weight gradient for 2 input channels is gemm:jit") }
        _ = o.0.forward(other, mode: .eval)
        #expect(o.0.lastKernelName.hasPrefix("onednn:"), "inference ran \(o.0.lastKernelName)")
        _ = o.0.forward(x, mode: .train)
        _ = r.0.forward(x, mode: .train)
        let dy = randomTensor(r.0.outputShape(c.input), seed: 43)
        _ = r.0.backward(dy, needInputGradient: false)
        _ = o.0.backward(dy, needInputGradient: false)
        for t in 0..<2 {
            let gr = Array(r.1.gradients[t]).map(Double.init), go = Array(o.1.gradients[t]).map(Double.init)
            #expect(relativeError(go, gr) < 1e-5, "parameter gradient \(t)")
        }
    }

    /// A model on oneDNN and one on the reference give the same features.
    @Test func modelsAgreeAcrossBackends() {
        let a = Model(architecture: .fmnistAlexNet, numClasses: 10, seed: 3), b = Model(architecture: .fmnistAlexNet, numClasses: 10, seed: 3)
        a.useKernels(.onednn); b.useKernels(.reference)
        let x = randomTensor([1, 16, 28, 28], seed: 4)
        let fa = a.forward(x, mode: .eval, through: a.featureLayer).array.map(Double.init)
        let fb = b.forward(x, mode: .eval, through: b.featureLayer).array.map(Double.init)
        #expect(relativeError(fa, fb) < 1e-4)
    }

    /// A shape oneDNN will not build runs on the reference kernels, with a note naming the layer and
    /// shape, and gives the reference's numbers. bf16 on a CPU without AVX512-BF16 is such a case; on a
    /// CPU with it, the bf16 convolution must stay within bf16's rounding of the reference.
    @Test func aRefusedShapeFallsBackWithANote() {
        let c = Case(inChannels: 3, outChannels: 4, kernel: 3, stride: 1, padding: 1, input: [3, 2, 8, 8])
        let (r, o) = Self.pair(c)
        o.0.precision = .bf16
        let x = randomTensor(c.input, seed: 31)
        let yr = r.0.forward(x, mode: .train).array.map(Double.init)
        let yo = o.0.forward(x, mode: .train).array.map(Double.init)
        if KernelBackend.hasNativeBF16 {
            #expect(o.0.lastKernelName.hasPrefix("onednn:"))
            #expect(relativeError(yo, yr) < 2e-2, "bf16 forward")
        } else {
            #expect(o.0.lastKernelName == "reference")
            #expect(relativeError(yo, yr) < 1e-6)
            let note = KernelBackend.notes.first { $0.contains("(2, 3, 8, 8)") && $0.contains("bf16") }
            #expect(note?.contains("unimplemented") == true && note?.contains("runs on the reference kernels") == true, "\(KernelBackend.notes)")
            let dy = randomTensor(r.0.outputShape(c.input), seed: 32)
            let dxr = r.0.backward(dy, needInputGradient: true)!.array.map(Double.init)
            let dxo = o.0.backward(dy, needInputGradient: true)!.array.map(Double.init)
            #expect(relativeError(dxo, dxr) < 1e-6)
            // The refusal is bf16's: the same shape in fp32 runs on oneDNN again.
            o.0.precision = .fp32
            _ = o.0.forward(x, mode: .train)
            #expect(o.0.lastKernelName != "reference", "\(o.0.lastKernelName)")
        }
    }

    @Test func bf16IsRefusedInOneLineWhereTheCPULacksIt() throws {
        if KernelBackend.hasNativeBF16 { return }
        #expect { try KernelBackend.validate(.onednn, precision: .bf16) } throws: { error in
            "\(error)".contains("AVX512-BF16") && !"\(error)".contains("\n")
        }
        #expect { try KernelBackend.validate(.reference, precision: .bf16) } throws: { "\($0)".contains("--kernels onednn") }
        try KernelBackend.validate(.reference, precision: .fp32)
    }

    @Test func theLibraryIsThere() {
        #expect(!KernelBackend.oneDNNVersion.isEmpty)
        #expect(KernelBackend.oneDNNVersion.hasPrefix("2."))
        #expect(["sse41", "avx", "avx2", "avx2_vnni", "avx512_core", "avx512_core_vnni", "avx512_core_bf16", "avx512_core_amx", "other"].contains(KernelBackend.instructionSet))
    }
}
