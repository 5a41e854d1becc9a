import Tensor

/// Max pooling over (C, N, H, W), PyTorch semantics (no padding, floor mode). Ties keep the first maximum.
public final class MaxPool2d: Layer {
    public let name: String
    public let kernel, stride: Int
    private let output = Tensor(shape: [0])
    private let inputGrad = Tensor(shape: [0])
    private var argmax: [Int32] = []
    private var inputShape: [Int] = []

    public init(name: String, kernel: Int, stride: Int) {
        self.name = name; self.kernel = kernel; self.stride = stride
    }

    public func outputShape(_ x: [Int]) -> [Int] {
        [x[0], x[1], (x[2] - kernel) / stride + 1, (x[3] - kernel) / stride + 1]
    }

    /// False after an inference forward (`Mode.eval`), which keeps no argmax (no backward may follow it).
    private var argmaxKept = false

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        inputShape = x.shape
        let o = outputShape(x.shape)
        output.resize(o)
        argmaxKept = mode.backward
        if !mode.backward { return forwardInference(x, o) }
        let planes = o[0] * o[1], h = x.shape[2], w = x.shape[3], oh = o[2], ow = o[3]
        if argmax.count < output.count { argmax = [Int32](repeating: 0, count: output.count) }
        let src = x.data, dst = output.data, k = kernel, s = stride
        argmax.withUnsafeMutableBufferPointer { am in
            let amp = am.baseAddress!
            Parallel.forEachChunk(planes) { ps in
                for p in ps {
                    let plane = src + p * h * w
                    for oy in 0..<oh {
                        if k == 2 && s == 2 {
                            // The common window, unrolled with selects (no branch per comparison), in
                            // the general loop's order: the first maximum wins.
                            let top = 2 * oy * w, out = p * oh * ow + oy * ow
                            for ox in 0..<ow {
                                let a = top + 2 * ox, b = a + 1, c = a + w, d = c + 1
                                var best = plane[a], at = a
                                let vb = plane[b], vc = plane[c], vd = plane[d]
                                at = vb > best ? b : at; best = vb > best ? vb : best
                                at = vc > best ? c : at; best = vc > best ? vc : best
                                at = vd > best ? d : at; best = vd > best ? vd : best
                                dst[out + ox] = best
                                amp[out + ox] = Int32(at)
                            }
                            continue
                        }
                        for ox in 0..<ow {
                            var at = oy * s * w + ox * s
                            var best = plane[at]
                            for ky in 0..<k {
                                let rowBase = (oy * s + ky) * w + ox * s
                                for kx in 0..<k where plane[rowBase + kx] > best {
                                    best = plane[rowBase + kx]; at = rowBase + kx
                                }
                            }
                            let j = (p * oh + oy) * ow + ox
                            dst[j] = best
                            amp[j] = Int32(at)
                        }
                    }
                }
            }
        }
        return output
    }

    /// Inference: the maxima only, no argmax, the same values as the training path (the first maximum
    /// of each window, compared in the same order).
    private func forwardInference(_ x: Tensor, _ o: [Int]) -> Tensor {
        let planes = o[0] * o[1], h = x.shape[2], w = x.shape[3], oh = o[2], ow = o[3]
        let src = x.data, dst = output.data, k = kernel, s = stride
        Parallel.forEachChunk(planes, minChunk: 4) { ps in
            for p in ps {
                let plane = src + p * h * w
                for oy in 0..<oh {
                    let out = dst + (p * oh + oy) * ow
                    let first = plane + oy * s * w
                    if k == 2 && s == 2 {
                        // The common window, unrolled: four loads and three selects per output.
                        let below = first + w
                        for ox in 0..<ow {
                            var best = first[2 * ox]
                            let b = first[2 * ox + 1], c = below[2 * ox], d = below[2 * ox + 1]
                            best = b > best ? b : best
                            best = c > best ? c : best
                            best = d > best ? d : best
                            out[ox] = best
                        }
                        continue
                    }
                    if k == 3 {
                        // AlexNet's 3×3 windows, unrolled in the generic loop's order (the same value, NaN included):
                        // the loop over a variable window measured up to 1.7× slower on 224-px maps.
                        let second = first + w, third = first + 2 * w
                        for ox in 0..<ow {
                            let c = ox * s
                            var best = first[c]
                            var v = first[c + 1]; best = v > best ? v : best
                            v = first[c + 2]; best = v > best ? v : best
                            v = second[c]; best = v > best ? v : best
                            v = second[c + 1]; best = v > best ? v : best
                            v = second[c + 2]; best = v > best ? v : best
                            v = third[c]; best = v > best ? v : best
                            v = third[c + 1]; best = v > best ? v : best
                            v = third[c + 2]; best = v > best ? v : best
                            out[ox] = best
                        }
                        continue
                    }
                    for ox in 0..<ow {
                        let window = first + ox * s
                        var best = window[0]
                        for ky in 0..<k {
                            let row = window + ky * w
                            for kx in 0..<k { let v = row[kx]; best = v > best ? v : best }
                        }
                        out[ox] = best
                    }
                }
            }
        }
        return output
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        precondition(argmaxKept, "\(name): backward after an inference forward (Mode.eval)")
        inputGrad.resize(inputShape)
        inputGrad.zero()
        let hw = inputShape[2] * inputShape[3], ohw = dy.shape[2] * dy.shape[3]
        let planes = dy.shape[0] * dy.shape[1]
        let g = dy.data, d = inputGrad.data
        argmax.withUnsafeBufferPointer { am in
            let amp = am.baseAddress!
            Parallel.forEachChunk(planes) { ps in
                for p in ps {
                    let plane = d + p * hw
                    for j in (p * ohw)..<((p + 1) * ohw) { plane[Int(amp[j])] += g[j] }
                }
            }
        }
        return inputGrad
    }
}
