import CWinograd
import Tensor

/// Inference-only stride-1 convolution by Winograd's minimal filtering (Lavin & Gray, CVPR 2016;
/// Sources/CWinograd): F(4×4, 3×3) for 3×3 filters, 36 products per 4×4 output tile where a direct
/// convolution does 144, and F(2×2, 5×5) for 5×5 filters, 36 where it does 100. The filter, input
/// and output transforms run in C; between them 36 sgemm per chunk of images on OpenBLAS. This is
/// where extraction gets ahead of a direct kernel: oneDNN 2.6 has no Winograd below AVX-512, and
/// PyTorch on CPU runs its direct kernels. The outputs differ from a direct convolution's by float
/// rounding (about 1e-6 of their size); the folded BatchNorm's bias and the ReLU are applied in the
/// output transform. Training shapes never come here: their forward and backward are oneDNN's.
final class WinogradConvolution: ConvolutionKernel {
    /// The fewest input channels it takes on: the 36 products are sgemm with this inner dimension,
    /// which below 64 runs too far from the FMA peak to pay for the transforms (Fashion-MNIST's
    /// conv2, 32 → 64 at 14×14, measured 1.5× slower on Winograd than on oneDNN; 64 → 128 at 7×7
    /// and AlexNet's 96 → 256 at 27×27 faster).
    static let minimumInputChannels = 64
    /// The fewest output channels (Sobel's 1 → 2 stays on oneDNN).
    static let minimumOutputChannels = 16

    /// The shape of the current call; the workspaces follow it (sized for the largest seen).
    var shape: ConvolutionShape {
        didSet { precondition(Self.handles(shape), "Winograd cannot run \(shape.text)") }
    }
    private let filter = Tensor(shape: [0])
    private let transformed = Tensor(shape: [0])
    private let products = Tensor(shape: [0])

    /// Whether this kernel computes `shape`: 3×3 or 5×5, stride 1, inference, enough channels.
    static func handles(_ shape: ConvolutionShape) -> Bool {
        !shape.training && (shape.kernel == 3 || shape.kernel == 5) && shape.stride == 1
            && shape.padding < shape.kernel
            && shape.inChannels >= minimumInputChannels && shape.outChannels >= minimumOutputChannels
            && shape.height + 2 * shape.padding >= shape.kernel && shape.width + 2 * shape.padding >= shape.kernel
    }

    /// "f4x3" or "f2x5".
    var name: String { shape.kernel == 3 ? "f4x3" : "f2x5" }

    init(shape: ConvolutionShape) {
        precondition(Self.handles(shape), "Winograd cannot run \(shape.text)")
        self.shape = shape
    }

    func forward(input x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                 output y: UnsafeMutablePointer<Float>) {
        let s = shape, g = s.geometry, kernel = Int32(s.kernel), step = 7 - s.kernel
        let inputs = s.inChannels, outputs = s.outChannels, images = s.batch
        let tilesHigh = (g.outHeight + step - 1) / step, tilesWide = (g.outWidth + step - 1) / step
        let tilesPerImage = tilesHigh * tilesWide
        filter.resize([36 * outputs * inputs])
        let u = filter.data
        dc_winograd_filter(weight, Int32(outputs), Int32(inputs), kernel, u)
        let chunk = max(1, min(images, WinogradChunking.budget / (36 * max(inputs, outputs) * tilesPerImage)))
        transformed.resize([36 * inputs * chunk * tilesPerImage])
        products.resize([36 * outputs * chunk * tilesPerImage])
        let v = transformed.data, m = products.data
        var first = 0
        while first < images {
            let count = min(chunk, images - first), last = first + count
            let tiles = count * tilesPerImage
            let inputPlane = inputs * tiles, outputPlane = outputs * tiles
            Parallel.forEachChunk(inputs) { channels in
                let status = dc_winograd_input(x, Int32(images), Int32(s.height), Int32(s.width), Int32(s.padding), kernel,
                                               Int32(tilesHigh), Int32(tilesWide), Int32(channels.lowerBound), Int32(channels.upperBound),
                                               Int32(first), Int32(last), v, inputPlane, tiles)
                precondition(status == 0, "Winograd: out of memory for the input transform's scratch")
            }
            for point in 0..<36 {
                BLAS.sgemm(m: outputs, n: tiles, k: inputs, a: u + point * outputs * inputs, lda: inputs,
                           b: v + point * inputPlane, ldb: tiles, c: m + point * outputPlane, ldc: tiles)
            }
            Parallel.forEachChunk(outputs) { channels in
                dc_winograd_output(m, outputPlane, tiles, bias, s.relu ? 1 : 0, kernel, Int32(images),
                                   Int32(g.outHeight), Int32(g.outWidth), Int32(tilesHigh), Int32(tilesWide),
                                   Int32(channels.lowerBound), Int32(channels.upperBound), Int32(first), Int32(last), y)
            }
            first = last
        }
    }

    func backward(outputGradient: UnsafePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                  inputGradient: UnsafeMutablePointer<Float>?, weightGradient: UnsafeMutablePointer<Float>?,
                  biasGradient: UnsafeMutablePointer<Float>?) throws {
        // Never expected (a forward that a backward follows is a training shape, which stays on oneDNN);
        // the layer falls back to the reference kernel, which recomputes what it needs, with a note.
        throw KernelError.unsupported("Winograd runs inference only; \(shape.text) has no backward here")
    }
}

/// How many images Winograd transforms at a time: a chunk's transformed input and its products hold
/// about `budget` floats each (16 MB). Smaller chunks stay in cache but give sgemm too few columns:
/// at 4 MB AlexNet's 384 → 384 had 64 tiles a product and its sgemm ran 1.5× slower. Public for the tests.
public enum WinogradChunking {
    nonisolated(unsafe) public static var budget = 1 << 22
}
