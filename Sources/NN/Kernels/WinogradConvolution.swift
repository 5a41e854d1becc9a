import CWinograd
import Foundation
import Tensor

/// Stride-1 convolution by Winograd's minimal filtering (Lavin & Gray, CVPR 2016;
/// Sources/CWinograd): F(4×4, 3×3) for 3×3 filters, 36 products per 4×4 output tile where a direct
/// convolution does 144, and F(2×2, 5×5) for 5×5 filters, 36 where it does 100. The forward runs in C
/// chunk by chunk of 48 tiles — input transform, the 36 products on a register-blocked kernel, output
/// transform — while the chunk is in cache; ∂w's sums over tiles run as 36 sgemm on OpenBLAS. This is
/// where extraction and training get ahead of a direct kernel: oneDNN 2.6 has no Winograd below AVX-512, and
/// PyTorch on CPU runs its direct kernels. The outputs differ from a direct convolution's by float
/// rounding (about 1e-6 of their size); the folded BatchNorm's bias and the ReLU are applied in the
/// output transform. Training's backward runs on the same tiles (`backward`): ∂x as the forward's code on
/// the turned filters, ∂w by the transposed transforms (F(3×3, 4×4) and F(5×5, 2×2) on the same points).
final class WinogradConvolution: ConvolutionKernel {
    /// The fewest input channels a training shape takes on whole (forward, ∂x and ∂w): ∂w's 36 sgemm sum
    /// over tiles with this many rows, which below 64 leaves too little arithmetic to pay for the
    /// transforms. Fashion-MNIST's conv2, 32 → 64 at 14×14: on chunks of tiles its forward is about 25%
    /// faster than oneDNN's, but its ∂w is slower by as much and its ∂x no faster; from 32 channels a
    /// training shape is split (`SplitConvolution`: the forward here, the backward on oneDNN). 64 → 128 at
    /// 7×7 and AlexNet's 96 → 256 at 27×27 are faster whole.
    static let minimumInputChannels = 64
    /// The fewest input channels an inference shape takes on (no ∂w to pay for): at 32 → 64, 5×5, 14×14
    /// (Fashion-MNIST's conv2), F(2×2, 5×5) runs extraction's layer in 30 ms against oneDNN's 44–49
    /// (`brgconv:avx512_core`, per 256 images, one thread, Zen 4), and extraction 2,380–2,576 → 3,000–3,025 img/s.
    static let minimumInferenceInputChannels = 32
    /// The fewest output channels (Sobel's 1 → 2 stays on oneDNN).
    static let minimumOutputChannels = 16

    /// The shape of the current call; the workspaces follow it (sized for the largest seen).
    var shape: ConvolutionShape {
        didSet { precondition(Self.handlesForward(shape), "Winograd cannot run \(shape.text)") }
    }
    private let filter = Tensor(shape: [0])
    /// `filter` packed for the forward on chunks of tiles (`dc_winograd_pack`).
    private let packedFilter = Tensor(shape: [0])
    /// Training's ∂w: a chunk of images' transformed input and transformed ∂y.
    private let transformed = Tensor(shape: [0])
    private let products = Tensor(shape: [0])
    /// The inference weights whose transform `filter` holds (empty when it holds another's).
    private var transformedWeights: [Float] = []
    /// Training's workspaces: the filters turned for ∂x, and the 36 planes of ∂w's sums.
    private let turned = Tensor(shape: [0])
    private let sums = Tensor(shape: [0])

    /// Whether this kernel computes `shape` whole (and, for a training shape, its backward): 3×3 or 5×5,
    /// stride 1, enough channels (fewer for inference than for training).
    static func handles(_ shape: ConvolutionShape) -> Bool {
        handlesForward(shape) && (!shape.training || shape.inChannels >= minimumInputChannels)
    }

    /// Whether this kernel computes `shape`'s forward (a training shape's backward may run elsewhere:
    /// `SplitConvolution`): 3×3 or 5×5, stride 1, enough channels.
    static func handlesForward(_ shape: ConvolutionShape) -> Bool {
        (shape.kernel == 3 || shape.kernel == 5) && shape.stride == 1
            && shape.padding < shape.kernel
            && shape.inChannels >= minimumInferenceInputChannels && shape.outChannels >= minimumOutputChannels
            && shape.height + 2 * shape.padding >= shape.kernel && shape.width + 2 * shape.padding >= shape.kernel
    }

    /// "f4x3" or "f2x5".
    var name: String { shape.kernel == 3 ? "f4x3" : "f2x5" }

    init(shape: ConvolutionShape) {
        precondition(Self.handlesForward(shape), "Winograd cannot run \(shape.text)")
        self.shape = shape
    }

    func forward(input x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                 output y: UnsafeMutablePointer<Float>) {
        let s = shape
        transformFilter(weight, outputs: s.outChannels, inputs: s.inChannels, reusable: !s.training)
        convolve(x, inputs: s.inChannels, outputs: s.outChannels, height: s.height, width: s.width,
                 padding: s.padding, bias: bias, relu: s.relu, output: y)
    }

    /// U = G w G^T of `outputs` × `inputs` filters into `filter`, split over the threads. Inference
    /// runs batch after batch on the same weights: when `reusable` and the weights equal those last
    /// transformed, the transform already in `filter` is kept.
    private func transformFilter(_ weight: UnsafePointer<Float>, outputs: Int, inputs: Int, reusable: Bool) {
        let count = outputs * inputs * shape.kernel * shape.kernel
        if reusable && transformedWeights.count == count
            && transformedWeights.withUnsafeBufferPointer({ memcmp($0.baseAddress!, weight, count * 4) == 0 }) {
            return
        }
        filter.resize([36 * outputs * inputs])
        let u = filter.data, kernel = Int32(shape.kernel)
        Parallel.forEachChunk(outputs) { range in
            dc_winograd_filter(weight, Int32(outputs), Int32(inputs), kernel, Int32(range.lowerBound), Int32(range.upperBound), u)
        }
        packedFilter.resize([Int(dc_winograd_packed_floats(Int32(outputs), Int32(inputs)))])
        dc_winograd_pack(u, Int32(outputs), Int32(inputs), packedFilter.data)
        transformedWeights = reusable ? Array(UnsafeBufferPointer(start: weight, count: count)) : []
    }

    /// y = x ∗ w (+ bias, then ReLU) for the transformed filter in `packedFilter`, stride 1: chunk by
    /// chunk of output tiles, the input transform, the 36 products and the output transform while the
    /// chunk is in cache (`dc_winograd_forward_tiles`), the tiles split over the threads.
    private func convolve(_ x: UnsafePointer<Float>, inputs: Int, outputs: Int, height: Int, width: Int, padding: Int,
                          bias: UnsafePointer<Float>?, relu: Bool, output y: UnsafeMutablePointer<Float>) {
        let kernel = shape.kernel, images = shape.batch, step = 7 - kernel
        let outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1
        let tiles = images * ((outHeight + step - 1) / step) * ((outWidth + step - 1) / step)
        let packed = UnsafePointer(packedFilter.data)
        Parallel.forEachChunk(tiles, minChunk: 48) { range in
            let status = dc_winograd_forward_tiles(x, Int32(images), Int32(inputs), Int32(height), Int32(width), Int32(padding),
                                                   Int32(kernel), packed, Int32(outputs), bias, relu ? 1 : 0,
                                                   Int32(outHeight), Int32(outWidth), range.lowerBound, range.upperBound, y)
            precondition(status == 0, "Winograd: out of memory for the forward's scratch")
        }
    }

    /// The grid of output tiles of one map.
    private struct TileGrid {
        let high, wide: Int
        var perImage: Int { high * wide }
    }

    /// Sizes the workspaces for an output map of `outHeight` × `outWidth`, then calls `body` for each chunk of
    /// images [first, last) with its number of tiles; a chunk's transformed tiles hold about
    /// `WinogradChunking.budget` floats.
    private func forEachChunk(inputs: Int, outputs: Int, outHeight: Int, outWidth: Int,
                              _ body: (_ grid: TileGrid, _ first: Int, _ last: Int, _ tiles: Int) -> Void) {
        let step = 7 - shape.kernel, images = shape.batch
        let grid = TileGrid(high: (outHeight + step - 1) / step, wide: (outWidth + step - 1) / step)
        let chunk = max(1, min(images, WinogradChunking.budget / (36 * max(inputs, outputs) * grid.perImage)))
        transformed.resize([36 * inputs * chunk * grid.perImage])
        products.resize([36 * outputs * chunk * grid.perImage])
        var first = 0
        while first < images {
            let last = min(images, first + chunk)
            body(grid, first, last, (last - first) * grid.perImage)
            first = last
        }
    }

    /// B^T d B of the 6×6 input tiles of images [first, last), every channel, into 36 planes at `v`.
    private func transformInput(_ x: UnsafePointer<Float>, images: Int, height: Int, width: Int, padding: Int, channels: Int,
                                grid: TileGrid, first: Int, last: Int, into v: UnsafeMutablePointer<Float>) {
        let tiles = (last - first) * grid.perImage
        Parallel.forEachChunk(channels) { range in
            let status = dc_winograd_input(x, Int32(images), Int32(height), Int32(width), Int32(padding), Int32(shape.kernel),
                                           Int32(grid.high), Int32(grid.wide), Int32(range.lowerBound), Int32(range.upperBound),
                                           Int32(first), Int32(last), v, channels * tiles, tiles)
            precondition(status == 0, "Winograd: out of memory for the input transform's scratch")
        }
    }

    /// Training's backward, all three on Winograd's tiles:
    /// - ∂x: the convolution of ∂y (zero-padded by kernel − 1 − padding) with the filters turned
    ///   by 180° and their input and output channels swapped — the forward's code on other shapes;
    /// - ∂w: Σ over tiles of G^T [(A ∂y A^T) ⊙ (B^T x B)] G, the sum over tiles (and images) taken in
    ///   the transformed domain as 36 sgemm (out × tiles) · (tiles × in), then one filter transform;
    /// - ∂b: the sum of ∂y per channel.
    func backward(outputGradient dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                  inputGradient dx: UnsafeMutablePointer<Float>?, weightGradient dw: UnsafeMutablePointer<Float>?,
                  biasGradient db: UnsafeMutablePointer<Float>?) throws {
        let s = shape, g = s.geometry
        guard s.training else {
            throw KernelError.unsupported("Winograd: \(s.text) was run as inference; it has no backward")
        }
        let outputs = s.outChannels, inputs = s.inChannels, k = s.kernel, plane = g.outHeight * g.outWidth
        if let db { accumulateBiasGradient(dy, channels: outputs, perChannel: s.batch * plane, into: db) }
        if let dw { weightGradient(dy, x, into: dw) }
        if let dx {
            turned.resize([inputs * outputs * k * k])
            let t = turned.data
            for o in 0..<outputs {
                for i in 0..<inputs {
                    let source = weight + (o * inputs + i) * k * k, target = t + (i * outputs + o) * k * k
                    for j in 0..<(k * k) { target[j] = source[k * k - 1 - j] }
                }
            }
            transformFilter(t, outputs: inputs, inputs: outputs, reusable: false)
            convolve(dy, inputs: outputs, outputs: inputs, height: g.outHeight, width: g.outWidth,
                     padding: k - 1 - s.padding, bias: nil, relu: false, output: dx)
        }
    }

    /// ∂w += Σ over images and tiles of G^T [(A ∂y A^T) ⊙ (B^T x B)] G.
    private func weightGradient(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>) {
        let s = shape, g = s.geometry, kernel = Int32(s.kernel), images = s.batch
        let outputs = s.outChannels, inputs = s.inChannels
        sums.resize([36 * outputs * inputs])
        let m = sums.data
        forEachChunk(inputs: inputs, outputs: outputs, outHeight: g.outHeight, outWidth: g.outWidth) { grid, first, last, tiles in
            let v = transformed.data, w = products.data
            let inputPlane = inputs * tiles, outputPlane = outputs * tiles
            transformInput(x, images: images, height: s.height, width: s.width, padding: s.padding, channels: inputs,
                           grid: grid, first: first, last: last, into: v)
            Parallel.forEachChunk(outputs) { channels in
                dc_winograd_output_gradient(dy, kernel, Int32(images), Int32(g.outHeight), Int32(g.outWidth),
                                            Int32(grid.high), Int32(grid.wide), Int32(channels.lowerBound), Int32(channels.upperBound),
                                            Int32(first), Int32(last), w, outputPlane, tiles)
            }
            for point in 0..<36 {
                BLAS.sgemm(transB: true, m: outputs, n: inputs, k: tiles, a: w + point * outputPlane, lda: tiles,
                           b: v + point * inputPlane, ldb: tiles, beta: first == 0 ? 0 : 1,
                           c: m + point * outputs * inputs, ldc: inputs)
            }
        }
        Parallel.forEachChunk(outputs) { channels in
            dc_winograd_filter_gradient(m, Int32(outputs), Int32(inputs), kernel,
                                        Int32(channels.lowerBound), Int32(channels.upperBound), dw)
        }
    }
}

/// Winograd's plain-C paths, which a CPU without AVX2 and FMA takes: `run` makes the calling thread take
/// them, on one thread (`Parallel.$taskThreads`), for its body only, so that tests on an AVX2 machine reach
/// them too; the suites beside it keep their own paths.
public enum WinogradPlainC {
    public static func run<T>(_ body: () throws -> T) rethrows -> T {
        dc_winograd_use_baseline(1)
        defer { dc_winograd_use_baseline(0) }
        return try Parallel.$taskThreads.withValue(1) { try body() }
    }
}

/// How many images training's ∂w transforms at a time: a chunk's transformed input and transformed ∂y
/// hold about `budget` floats each (16 MB). Smaller chunks stay in cache but give sgemm too few columns:
/// at 4 MB AlexNet's 384 → 384 had 64 tiles a product and its sgemm ran 1.5× slower. Tests set another
/// budget for their own task (`$taskBudget.withValue`), leaving the suites beside them theirs.
public enum WinogradChunking {
    public static var budget: Int { taskBudget ?? 1 << 22 }
    @TaskLocal public static var taskBudget: Int?
}
