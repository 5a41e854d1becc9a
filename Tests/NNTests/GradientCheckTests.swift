import NN
import Tensor
import Testing

/// Finite-difference checks: for L = Σ r·layer(x) with a fixed random r, the analytic input and
/// parameter gradients from backward must match central differences.
@Suite struct GradientCheckTests {
    func check(_ layer: Layer, input shape: [Int], mode: Mode = .train, eps: Float = 1e-2,
               tolerance: Double = 2e-2, probes: Int = 40) {
        let h = LayerHarness(layer)
        let x = randomTensor(shape, seed: 11)
        let y0 = layer.forward(x, mode: mode)
        let r = randomTensor(y0.shape, seed: 12)
        func loss() -> Double {
            let y = layer.forward(x, mode: mode)
            var s = 0.0
            for i in 0..<y.count { s += Double(y[i]) * Double(r[i]) }
            return s
        }
        _ = loss()
        h.zeroGradients()
        let dx = layer.backward(r, needInputGradient: true)!.array
        let grads = h.gradients.map { Array($0) }
        var rng = RandomGenerator(seed: 13)
        func numeric(_ p: UnsafeMutablePointer<Float>) -> Double {
            let old = p.pointee
            p.pointee = old + eps; let lp = loss()
            p.pointee = old - eps; let lm = loss()
            p.pointee = old
            return (lp - lm) / Double(2 * eps)
        }
        var worst = 0.0
        for _ in 0..<probes {
            let i = rng.below(x.count)
            let n = numeric(x.data + i)
            worst = max(worst, abs(n - Double(dx[i])) / max(1, abs(n)))
        }
        for (t, p) in h.parameters.enumerated() {
            for _ in 0..<min(probes, p.count) {
                let i = rng.below(p.count)
                let n = numeric(p.baseAddress! + i)
                worst = max(worst, abs(n - Double(grads[t][i])) / max(1, abs(n)))
            }
        }
        #expect(worst < tolerance, "\(layer.name): worst relative error \(worst)")
    }

    func conv(_ kernels: KernelBackend, in i: Int, out o: Int, kernel k: Int, stride s: Int = 1, padding p: Int = 0) -> Conv2d {
        let c = Conv2d(name: "conv", in: i, out: o, kernel: k, stride: s, padding: p)
        c.kernels = kernels
        return c
    }
    @Test(arguments: KernelBackend.allCases) func conv2dPadded(_ k: KernelBackend) {
        check(conv(k, in: 3, out: 4, kernel: 3, padding: 1), input: [3, 2, 6, 5])
    }
    @Test(arguments: KernelBackend.allCases) func conv2dStrided(_ k: KernelBackend) {
        check(conv(k, in: 2, out: 3, kernel: 5, stride: 2, padding: 2), input: [2, 3, 9, 9])
    }
    @Test func conv2dChunked() {
        // 200 floats: one image per chunk of the reference kernel.
        Im2colConvolution.$taskColumnBudget.withValue(200) {
            #expect(Im2colConvolution.columnBudget == 200)
            check(conv(.reference, in: 2, out: 3, kernel: 3, padding: 1), input: [2, 3, 5, 5])
        }
    }
    @Test func batchNorm2dTrain() { check(BatchNorm(name: "bn", features: 3), input: [3, 4, 3, 3]) }
    @Test func batchNorm2dEval() { check(BatchNorm(name: "bn", features: 3), input: [3, 4, 3, 3], mode: .eval) }
    @Test func batchNorm1dTrain() { check(BatchNorm(name: "bn", features: 5, channelMajor: false), input: [6, 5]) }
    @Test func relu() { check(ReLU(name: "relu"), input: [2, 3, 4, 4], eps: 1e-3) }
    @Test func maxPool() { check(MaxPool2d(name: "pool", kernel: 2, stride: 2), input: [2, 3, 6, 6], eps: 1e-3) }
    @Test func maxPoolOverlapping() { check(MaxPool2d(name: "pool", kernel: 3, stride: 2), input: [2, 2, 7, 7], eps: 1e-3) }
    @Test func avgPool() { check(AvgPool2d(name: "pool", kernel: 3, stride: 2, padding: 1), input: [2, 2, 7, 7]) }
    @Test func linear() { check(Linear(name: "fc", in: 7, out: 5), input: [4, 7]) }
    @Test func flatten() { check(Flatten(name: "flat"), input: [3, 2, 2, 2]) }
    @Test func l2Normalize() { check(L2Normalize(name: "l2"), input: [4, 6], eps: 1e-3) }
    @Test func sobel() { check(Sobel.layers(inputChannels: 1)[0], input: [1, 2, 5, 5]) }
    @Test func sobelGrey() { check(Sobel.layers(inputChannels: 3)[0], input: [3, 2, 4, 4]) }

    @Test func dropoutMasksAndScales() {
        let d = Dropout(name: "drop", p: 0.5)
        d.generator = RandomGenerator(seed: 3)
        let x = Tensor(shape: [1000, 4])
        for i in 0..<x.count { x[i] = 1 }
        let y = d.forward(x, mode: .train).array
        let kept = y.filter { $0 != 0 }
        #expect(kept.allSatisfy { $0 == 2 })
        #expect(abs(Double(kept.count) / 4000 - 0.5) < 0.03)
        let g = d.backward(x, needInputGradient: true)!.array
        #expect(g == y)
        #expect(d.forward(x, mode: .eval).array == x.array)
    }

    @Test func crossEntropyGradient() {
        let logits = randomTensor([3, 4], seed: 5)
        let labels: [Int32] = [0, 3, 1]
        let g = Tensor(shape: [0])
        let loss = labels.withUnsafeBufferPointer { CrossEntropy.forwardBackward(logits: logits, labels: $0, divisor: 3, gradient: g) } / 3
        // Closed form: mean of logsumexp − logit[label].
        var expected = 0.0
        for i in 0..<3 {
            let row = (0..<4).map { Double(logits[i * 4 + $0]) }
            let m = row.max()!
            expected += m + log(row.map { exp($0 - m) }.reduce(0, +)) - row[Int(labels[i])]
        }
        #expect(abs(loss - expected / 3) < 1e-5)
        // Rows of the gradient sum to zero.
        for i in 0..<3 { #expect(abs((0..<4).map { g[i * 4 + $0] }.reduce(0, +)) < 1e-6) }
    }
}

extension GradientCheckTests {
    /// The prototype loss: central differences on the logits, ignored rows, and with one head at T = 1
    /// it is the plain cross-entropy.
    @Test func prototypeCrossEntropyGradient() {
        let heads = [3, 5], n = 4
        let logits = randomTensor([n, 8], seed: 21)
        let labels: [Int32] = [0, 4, 2, 1, -100, 3, 1, 0]   // row 2's first head is ignored
        let g = Tensor(shape: [0])
        func loss() -> Double {
            labels.withUnsafeBufferPointer {
                PrototypeCrossEntropy.forwardBackward(logits: logits, heads: heads, temperature: 0.1, labels: $0, divisor: n, gradient: Tensor(shape: [0]))
            } / Double(n)
        }
        _ = labels.withUnsafeBufferPointer {
            PrototypeCrossEntropy.forwardBackward(logits: logits, heads: heads, temperature: 0.1, labels: $0, divisor: n, gradient: g)
        }
        var worst = 0.0
        for i in 0..<logits.count {
            let old = logits[i], eps: Float = 1e-3
            logits[i] = old + eps; let lp = loss()
            logits[i] = old - eps; let lm = loss()
            logits[i] = old
            let numeric = (lp - lm) / Double(2 * eps)
            worst = max(worst, abs(numeric - Double(g[i])) / max(1, abs(numeric)))
        }
        #expect(worst < 1e-2, "worst relative error \(worst)")
        // The ignored head of row 2 has no gradient.
        #expect((0..<3).allSatisfy { g[2 * 8 + $0] == 0 })

        let one = randomTensor([3, 4], seed: 5), y: [Int32] = [0, 3, 1]
        let g1 = Tensor(shape: [0]), g2 = Tensor(shape: [0])
        let a = y.withUnsafeBufferPointer { PrototypeCrossEntropy.forwardBackward(logits: one, heads: [4], temperature: 1, labels: $0, divisor: 3, gradient: g1) }
        let b = y.withUnsafeBufferPointer { CrossEntropy.forwardBackward(logits: one, labels: $0, divisor: 3, gradient: g2) }
        #expect(abs(a - b) < 1e-5)
        #expect(zip(g1.array, g2.array).allSatisfy { abs($0 - $1) < 1e-6 })
    }
}

#if canImport(Glibc)
import Glibc
#endif
