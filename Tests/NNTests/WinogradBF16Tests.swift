import COneDNN
import CWinograd
import NN
import Tensor
import Testing

/// Winograd F(2×2, 3×3) in bf16 on NHWC activations (CWinograd/winograd_bf16.c), the bf16 trunk's 3×3 and
/// 5×5 (as four 3×3) stride-1 convolutions, against an exact convolution (in Double) of the same bf16 input and
/// fp32 filters: partial tiles, padding 0 to kernel − 1, bias and ReLU, more tiles than a chunk, the split over
/// threads, and the shapes it declines. Runs where the CPU has AVX512-BF16.
@Suite(.serialized, .enabled(if: dc_winograd_bf16_supported(16, 64) != 0, "the CPU has no AVX512-BF16"))
struct WinogradBF16Tests {
    struct Case: CustomTestStringConvertible, Sendable {
        let images, inChannels, outChannels, height, width, padding: Int
        var relu = false
        var kernel = 3
        var testDescription: String {
            "\(images)×\(inChannels)→\(outChannels) k\(kernel) \(height)×\(width) p\(padding)\(relu ? " relu" : "")"
        }
        var outHigh: Int { height + 2 * padding - kernel + 1 }
        var outWide: Int { width + 2 * padding - kernel + 1 }
    }

    static let cases = [
        Case(images: 2, inChannels: 64, outChannels: 128, height: 7, width: 7, padding: 1, relu: true),  // fmnist-alexnet's conv3
        Case(images: 1, inChannels: 32, outChannels: 64, height: 13, width: 13, padding: 1),              // AlexNet's 13×13
        Case(images: 3, inChannels: 16, outChannels: 64, height: 9, width: 6, padding: 0),                // no padding, uneven
        Case(images: 2, inChannels: 48, outChannels: 192, height: 5, width: 11, padding: 2, relu: true),
        Case(images: 4, inChannels: 16, outChannels: 64, height: 1, width: 2, padding: 1),                // smaller than a tile
        Case(images: 9, inChannels: 16, outChannels: 64, height: 8, width: 9, padding: 1),                // 180 tiles: two chunks
        Case(images: 2, inChannels: 32, outChannels: 64, height: 14, width: 14, padding: 2, relu: true, kernel: 5),  // fmnist conv2
        Case(images: 1, inChannels: 16, outChannels: 128, height: 11, width: 9, padding: 2, kernel: 5),   // odd: partial tiles
        Case(images: 3, inChannels: 16, outChannels: 64, height: 5, width: 7, padding: 0, kernel: 5),
        Case(images: 2, inChannels: 16, outChannels: 64, height: 2, width: 3, padding: 4, kernel: 5),     // smaller than a window
    ]

    static func bf16(_ x: Float) -> UInt16 {
        let u = x.bitPattern
        return UInt16(truncatingIfNeeded: (u &+ 0x7fff &+ ((u >> 16) & 1)) >> 16)
    }

    static func float(_ b: UInt16) -> Double { Double(Float(bitPattern: UInt32(b) << 16)) }

    /// Post-ReLU-like bf16 inputs (half zeros), filters and bias of a layer's usual scale.
    static func operands(_ c: Case) -> (x: [UInt16], w: [Float], bias: [Float]) {
        var rng = RandomGenerator(seed: 17)
        let x = (0..<(c.images * c.height * c.width * c.inChannels)).map { _ in bf16(Float(max(0, rng.normal()))) }
        let scale = 1.7 / Double(c.inChannels * c.kernel * c.kernel).squareRoot()
        let w = (0..<(c.outChannels * c.inChannels * c.kernel * c.kernel)).map { _ in Float((rng.uniform() * 2 - 1) * scale) }
        let bias = (0..<c.outChannels).map { _ in Float(rng.normal() * 0.1) }
        return (x, w, bias)
    }

    /// The bf16 outputs (images, out_high, out_wide, out).
    static func run(_ c: Case, _ x: [UInt16], _ w: [Float], _ bias: [Float]) -> [UInt16]? {
        let k = Int32(c.kernel)
        var packed = [UInt16](repeating: 0, count: Int(dc_winograd_bf16_packed_count(Int32(c.outChannels), Int32(c.inChannels), k)))
        dc_winograd_bf16_pack(w, Int32(c.outChannels), Int32(c.inChannels), k, &packed)
        var y = [UInt16](repeating: 0, count: c.images * c.outHigh * c.outWide * c.outChannels)
        let status = dc_winograd_bf16_forward(x, Int32(c.images), Int32(c.height), Int32(c.width), Int32(c.inChannels), k,
                                              Int32(c.padding), packed, bias, Int32(c.outChannels), c.relu ? 1 : 0, &y)
        return status == 0 ? y : nil
    }

    static func exact(_ c: Case, _ x: [UInt16], _ w: [Float], _ bias: [Float]) -> [Double] {
        let outHigh = c.outHigh, outWide = c.outWide, k = c.kernel
        var y = [Double](repeating: 0, count: c.images * outHigh * outWide * c.outChannels)
        for n in 0..<c.images {
            for oy in 0..<outHigh {
                for ox in 0..<outWide {
                    for o in 0..<c.outChannels {
                        var s = Double(bias[o])
                        for a in 0..<k {
                            let yy = oy + a - c.padding
                            if yy < 0 || yy >= c.height { continue }
                            for b in 0..<k {
                                let xx = ox + b - c.padding
                                if xx < 0 || xx >= c.width { continue }
                                let at = ((n * c.height + yy) * c.width + xx) * c.inChannels
                                for i in 0..<c.inChannels {
                                    s += float(x[at + i]) * Double(w[((o * c.inChannels + i) * k + a) * k + b])
                                }
                            }
                        }
                        y[((n * outHigh + oy) * outWide + ox) * c.outChannels + o] = c.relu ? max(0, s) : s
                    }
                }
            }
        }
        return y
    }

    /// Relative RMS error, the measure its header's figures use.
    static func rmsError(_ got: [Double], _ expected: [Double]) -> Double {
        let error = zip(got, expected).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
        return (error / max(expected.map { $0 * $0 }.reduce(0, +), 1e-30)).squareRoot()
    }

    @Test(arguments: cases) func matchesAnExactConvolutionWithinBF16Rounding(_ c: Case) throws {
        let (x, w, bias) = Self.operands(c)
        let y = try #require(Self.run(c, x, w, bias)).map(Self.float)
        let expected = Self.exact(c, x, w, bias)
        // What a direct bf16 kernel gives on these operands (filters rounded to bf16, output rounded to bf16).
        let rounded = w.map { Float(Self.float(Self.bf16($0))) }
        let direct = Self.exact(c, x, rounded, bias).map { Self.float(Self.bf16(Float($0))) }
        let winogradError = Self.rmsError(y, expected), directError = Self.rmsError(direct, expected)
        // Measured on Zen 4: 3.1e-3 to 3.9e-3 on these cases (3×3 and 5×5), against 2.2e-3 to 2.4e-3 for a direct
        // bf16 kernel.
        #expect(winogradError < 6e-3, "Winograd's relative RMS error \(winogradError) (direct bf16: \(directError))")
        #expect(winogradError < 2.5 * directError, "Winograd \(winogradError) against direct bf16 \(directError)")
        // No single value is far off either: within 3% of the largest output.
        let largest = expected.map(abs).max() ?? 1
        let worst = zip(y, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 0.03 * largest, "largest error \(worst) of \(largest)")
    }

    /// Each tile's sums run in the same order whichever OpenMP thread takes its chunk.
    @Test func twoThreadsGiveTheOneThreadsOutput() throws {
        let c = Case(images: 12, inChannels: 32, outChannels: 64, height: 13, width: 13, padding: 1, relu: true)  // 588 tiles
        let (x, w, bias) = Self.operands(c)
        dc_onednn_set_threads(1)
        let one = try #require(Self.run(c, x, w, bias))
        dc_onednn_set_threads(2)
        let two = try #require(Self.run(c, x, w, bias))
        dc_onednn_set_threads(1)
        #expect(one == two)
    }

    @Test func declinesShapesItDoesNotHandle() {
        #expect(dc_winograd_bf16_supported(8, 64) == 0, "input channels not a multiple of 16")
        #expect(dc_winograd_bf16_supported(16, 48) == 0, "output channels not a multiple of 64")
        let c = Case(images: 1, inChannels: 8, outChannels: 64, height: 5, width: 5, padding: 1)
        let x = [UInt16](repeating: 0, count: 5 * 5 * 8), w = [Float](repeating: 0, count: 64 * 8 * 9)
        #expect(Self.run(c, x, w, [Float](repeating: 0, count: 64)) == nil)
        let seven = Case(images: 1, inChannels: 16, outChannels: 64, height: 9, width: 9, padding: 1, kernel: 7)
        #expect(Self.run(seven, [UInt16](repeating: 0, count: 81 * 16), [Float](repeating: 0, count: 64 * 16 * 49),
                         [Float](repeating: 0, count: 64)) == nil, "a 7×7 filter")
    }
}
