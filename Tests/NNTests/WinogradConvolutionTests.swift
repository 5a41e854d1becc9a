import NN
import Tensor
import Testing

/// Winograd F(4×4, 3×3) and F(2×2, 5×5) for inference's stride-1 convolutions against the im2col +
/// sgemm reference on the same weights: odd sizes (partial tiles), padding 0 up to kernel − 1,
/// batches split into chunks, the folded BatchNorm and ReLU, and the switch back to oneDNN.
@Suite(.serialized) struct WinogradConvolutionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let inChannels, outChannels, padding: Int
        let input: [Int]
        var kernel = 3
        var testDescription: String { "\(inChannels)→\(outChannels) k\(kernel) p\(padding) on \(input)" }
    }

    static let cases = [
        Case(inChannels: 64, outChannels: 128, padding: 1, input: [64, 3, 7, 7]),      // fmnist-alexnet's conv3
        Case(inChannels: 64, outChannels: 16, padding: 1, input: [64, 2, 13, 13]),     // AlexNet's 13×13
        Case(inChannels: 64, outChannels: 20, padding: 0, input: [64, 2, 9, 6]),       // no padding, uneven
        Case(inChannels: 65, outChannels: 16, padding: 2, input: [65, 1, 5, 11]),
        Case(inChannels: 64, outChannels: 16, padding: 1, input: [64, 5, 1, 2]),       // smaller than a tile
        Case(inChannels: 96, outChannels: 32, padding: 2, input: [96, 2, 27, 27], kernel: 5),  // AlexNet's conv2
        Case(inChannels: 64, outChannels: 16, padding: 2, input: [64, 2, 14, 14], kernel: 5),
        Case(inChannels: 64, outChannels: 16, padding: 0, input: [64, 3, 8, 11], kernel: 5),
        Case(inChannels: 64, outChannels: 16, padding: 4, input: [64, 1, 2, 3], kernel: 5),
        Case(inChannels: 70, outChannels: 20, padding: 1, input: [70, 13, 7, 7]),      // 52 tiles: two chunks; 20 = 3 · 6 + 2 outputs
        // Chunks that start and end inside a map, mid-row, and span two images: only their rows are copied.
        Case(inChannels: 64, outChannels: 16, padding: 1, input: [64, 2, 30, 33]),
        Case(inChannels: 64, outChannels: 16, padding: 2, input: [64, 2, 41, 17], kernel: 5),
    ]

    /// Two copies of one convolution with the same weights and bias, one per backend (the
    /// harnesses own the parameters: keep them alive with the layers).
    static func pair(_ c: Case) -> (reference: Conv2d, fast: Conv2d, keep: [LayerHarness]) {
        func make(_ k: KernelBackend) -> (Conv2d, LayerHarness) {
            let conv = Conv2d(name: "conv", in: c.inChannels, out: c.outChannels, kernel: c.kernel, padding: c.padding)
            conv.kernels = k
            return (conv, LayerHarness(conv, seed: 7))
        }
        let (r, rh) = make(.reference), (w, wh) = make(.onednn)
        return (r, w, [rh, wh])
    }

    @Test(arguments: cases) func matchesTheReference(_ c: Case) {
        let (r, w, keep) = Self.pair(c)
        let x = randomTensor(c.input, seed: 31)
        let expected = r.forward(x, mode: .eval).array.map(Double.init)
        let got = w.forward(x, mode: .eval).array.map(Double.init)
        #expect(w.lastKernelName == (c.kernel == 3 ? "winograd:f4x3" : "winograd:f2x5"), "ran \(w.lastKernelName)")
        #expect(got.count == expected.count && relativeError(got, expected) < 1e-5)
        // Training shapes follow their own switch (WinogradTrainingTests); off, they run on oneDNN.
        _ = w.forward(x, mode: .train)
        #expect(w.lastKernelName.hasPrefix(KernelBackend.winogradTraining ? "winograd:" : "onednn:"), "ran \(w.lastKernelName)")
        withExtendedLifetime(keep) {}
    }

    /// The batch's tiles split over two threads, at a chunk's edge and inside one: each tile's sums run
    /// in the same order wherever it falls, so the output is bit for bit the one thread's.
    @Test func tilesSplitOverThreadsGiveTheSameOutput() {
        let (_, w, keep) = Self.pair(Case(inChannels: 64, outChannels: 36, padding: 1, input: [64, 23, 7, 7]))
        let x = randomTensor([64, 23, 7, 7], seed: 32)
        let one = Parallel.$taskThreads.withValue(1) { w.forward(x, mode: .eval).array }
        for threads in [2, 3] {
            let split = Parallel.$taskThreads.withValue(threads) {
                #expect(Parallel.threads == threads)
                return w.forward(x, mode: .eval).array
            }
            #expect(w.lastKernelName == "winograd:f4x3")
            #expect(zip(one, split).filter { $0.0 != $0.1 }.count == 0, "\(threads) threads")
        }
        withExtendedLifetime(keep) {}
    }

    @Test func theFoldedBatchNormAndReLUAreApplied() {
        let (r, w, keep) = Self.pair(Self.cases[1])
        let x = randomTensor(Self.cases[1].input, seed: 33)
        let scale = (0..<16).map { Float($0 % 3) * 0.7 - 0.4 }, shift = (0..<16).map { Float($0) * 0.05 - 0.3 }
        #expect(Self.cases[1].outChannels == 16)
        let expected = r.forwardFolded(x, scale: scale, shift: shift, relu: true).array.map(Double.init)
        let got = w.forwardFolded(x, scale: scale, shift: shift, relu: true).array.map(Double.init)
        #expect(w.lastKernelName == "winograd:f4x3")
        #expect(expected.contains(0) && relativeError(got, expected) < 1e-5)
        withExtendedLifetime(keep) {}
    }

    @Test func switchedOffTheShapeRunsOnOneDNN() {
        let (_, w, keep) = Self.pair(Self.cases[0])
        w.winograd = false
        _ = w.forward(randomTensor(Self.cases[0].input, seed: 34), mode: .eval)
        #expect(w.lastKernelName.hasPrefix("onednn:"), "ran \(w.lastKernelName)")
        withExtendedLifetime(keep) {}
    }
}

extension WinogradConvolutionTests {
    /// Thin inputs stay on oneDNN: the products' inner dimension would be too short to pay. Inference takes
    /// Winograd from 32 input channels on (Fashion-MNIST's conv2, 32 → 64, with the reference's outputs), and
    /// so does training's forward, its backward on oneDNN below 64 (SplitConvolution: its ∂x and ∂w on tiles
    /// would cost what the forward saves); 16 stays on oneDNN.
    @Test func fewInputChannelsStayOnOneDNNOrSplit() {
        let (r, w, keep) = Self.pair(Case(inChannels: 32, outChannels: 64, padding: 2, input: [32, 2, 14, 14], kernel: 5))
        let x = randomTensor([32, 2, 14, 14], seed: 35)
        let y = w.forward(x, mode: .eval).array.map(Double.init)
        #expect(w.lastKernelName == "winograd:f2x5", "ran \(w.lastKernelName)")
        #expect(relativeError(y, r.forward(x, mode: .eval).array.map(Double.init)) < 1e-5)
        _ = w.forward(x, mode: .train)
        let split = KernelBackend.winogradTraining ? "winograd:f2x5+onednn:" : "onednn:"
        #expect(w.lastKernelName.hasPrefix(split), "training ran \(w.lastKernelName)")
        let (_, thin, keepThin) = Self.pair(Case(inChannels: 16, outChannels: 64, padding: 2, input: [16, 2, 14, 14], kernel: 5))
        _ = thin.forward(randomTensor([16, 2, 14, 14], seed: 36), mode: .eval)
        #expect(thin.lastKernelName.hasPrefix("onednn:"), "16 channels ran \(thin.lastKernelName)")
        withExtendedLifetime((keep, keepThin)) {}
    }
}

extension WinogradConvolutionTests {
    /// One Winograd kernel serves every shape of a layer (the extraction batch, the last partial
    /// batch): a larger batch after a smaller one, and back, give the reference's outputs.
    @Test func batchSizesChangeFromCallToCall() {
        let (r, w, keep) = Self.pair(Self.cases[0])
        for batch in [3, 7, 2] {
            let x = randomTensor([64, batch, 7, 7], seed: 40 + UInt64(batch))
            let expected = r.forward(x, mode: .eval).array.map(Double.init)
            let got = w.forward(x, mode: .eval).array.map(Double.init)
            #expect(w.lastKernelName == "winograd:f4x3")
            #expect(got.count == expected.count && relativeError(got, expected) < 1e-5, "batch \(batch)")
        }
        withExtendedLifetime(keep) {}
    }
}

extension WinogradConvolutionTests {
    /// Training with frozen BatchNorm (running statistics, dropout off) still has a backward: its
    /// convolutions are training shapes (on Winograd's training path or oneDNN, as the switch says), and
    /// the gradients are the reference's.
    @Test func frozenBatchNormTrainingKeepsItsBackward() {
        let (r, w, keep) = Self.pair(Self.cases[0])
        let frozen = Mode(dropout: false, batchStatistics: false)
        let x = randomTensor(Self.cases[0].input, seed: 37)
        let expected = r.forward(x, mode: frozen).array.map(Double.init)
        let got = w.forward(x, mode: frozen).array.map(Double.init)
        #expect(w.lastKernelName.hasPrefix(KernelBackend.winogradTraining ? "winograd:" : "onednn:"), "ran \(w.lastKernelName)")
        #expect(relativeError(got, expected) < 1e-5)
        let dy = randomTensor(r.outputShape(Self.cases[0].input), seed: 38)
        let dxr = r.backward(dy, needInputGradient: true)!.array.map(Double.init)
        let dxw = w.backward(dy, needInputGradient: true)!.array.map(Double.init)
        #expect(relativeError(dxw, dxr) < 1e-5)
        #expect(relativeError(Array(keep[1].gradients[0]).map(Double.init), Array(keep[0].gradients[0]).map(Double.init)) < 1e-5)
        withExtendedLifetime(keep) {}
    }
}
