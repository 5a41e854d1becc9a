/// Geometry of a 2-D convolution or pooling window, PyTorch semantics (floor mode).
public struct ConvGeometry: Equatable, Sendable {
    public var channels, height, width, kernelH, kernelW, stride, padding: Int

    public init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int = 1, padding: Int = 0) {
        self.channels = channels; self.height = height; self.width = width
        kernelH = kernel; kernelW = kernel; self.stride = stride; self.padding = padding
    }

    public var outHeight: Int { (height + 2 * padding - kernelH) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernelW) / stride + 1 }
    /// Rows of the column matrix: C·kh·kw.
    public var patchSize: Int { channels * kernelH * kernelW }
}

/// im2col / col2im over the (C, N, H, W) layout, for images `first ..< first + count` of a batch of
/// `batch`. The column matrix is row-major [C·kh·kw, count·OH·OW], so one sgemm with the
/// [out, C·kh·kw] weight gives the (out, N, OH, OW) output directly.
public enum Im2col {
    public static func im2col(_ g: ConvGeometry, input: UnsafePointer<Float>, batch: Int,
                              first: Int, count: Int, columns: UnsafeMutablePointer<Float>) {
        let oh = g.outHeight, ow = g.outWidth, hw = g.height * g.width
        let rowLength = count * oh * ow
        Parallel.forEachChunk(g.patchSize, minChunk: 4) { rows in
            for row in rows {
                let kx = row % g.kernelW, ky = (row / g.kernelW) % g.kernelH, c = row / (g.kernelW * g.kernelH)
                var dst = columns + row * rowLength
                for b in first..<(first + count) {
                    let plane = input + (c * batch + b) * hw
                    for oy in 0..<oh {
                        let y = oy * g.stride - g.padding + ky
                        if y < 0 || y >= g.height {
                            dst.update(repeating: 0, count: ow)
                        } else {
                            let src = plane + y * g.width
                            if g.stride == 1 {
                                // x = ox - pad + kx: a shifted copy with zero edges.
                                let shift = kx - g.padding
                                let lo = max(0, -shift), hi = max(lo, min(ow, g.width - shift))
                                // Rows are short (7–28 floats): plain loops beat memcpy calls.
                                var ox = 0
                                while ox < lo { dst[ox] = 0; ox += 1 }
                                let s = src + shift
                                while ox < hi { dst[ox] = s[ox]; ox += 1 }
                                while ox < ow { dst[ox] = 0; ox += 1 }
                            } else {
                                for ox in 0..<ow {
                                    let x = ox * g.stride - g.padding + kx
                                    dst[ox] = (x >= 0 && x < g.width) ? src[x] : 0
                                }
                            }
                        }
                        dst += ow
                    }
                }
            }
        }
    }

    /// Accumulates the column matrix back into the input gradient (which the caller zeroed).
    public static func col2im(_ g: ConvGeometry, columns: UnsafePointer<Float>, batch: Int,
                              first: Int, count: Int, inputGradient: UnsafeMutablePointer<Float>) {
        let oh = g.outHeight, ow = g.outWidth, hw = g.height * g.width
        let rowLength = count * oh * ow
        let kk = g.kernelH * g.kernelW
        // Each channel owns its rows and its input planes: channels run in parallel without races.
        Parallel.forEachChunk(g.channels) { channels in
            for c in channels {
                for k in 0..<kk {
                    let kx = k % g.kernelW, ky = k / g.kernelW
                    var src = columns + (c * kk + k) * rowLength
                    for b in first..<(first + count) {
                        let plane = inputGradient + (c * batch + b) * hw
                        for oy in 0..<oh {
                            let y = oy * g.stride - g.padding + ky
                            if y >= 0 && y < g.height {
                                let dst = plane + y * g.width
                                if g.stride == 1 {
                                    let shift = kx - g.padding
                                    let lo = max(0, -shift), hi = min(ow, g.width - shift)
                                    if hi > lo {
                                        for ox in lo..<hi { dst[ox + shift] += src[ox] }
                                    }
                                } else {
                                    for ox in 0..<ow {
                                        let x = ox * g.stride - g.padding + kx
                                        if x >= 0 && x < g.width { dst[x] += src[ox] }
                                    }
                                }
                            }
                            src += ow
                        }
                    }
                }
            }
        }
    }
}
