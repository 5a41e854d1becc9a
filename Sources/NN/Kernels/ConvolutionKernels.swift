import Tensor

/// The kernel policy of one convolution layer, kept out of the layer: which backend runs each shape,
/// the oneDNN primitives created for the shapes it has seen (a few: the training batch, the last
/// partial batch, extraction's), and the fall-back to the im2col + sgemm reference for a shape oneDNN
/// refuses or fails on — with one note, never a crash. `Conv2d` asks it for a kernel per call and
/// knows nothing of backends. Under bf16, inference's whole trunk runs past it as one oneDNN chain
/// (`InferenceTrunk`, planned by `Model`).
final class ConvolutionKernels {
    /// The layer's name, for notes.
    let name: String
    /// This layer's backend and precision when they are not the process-wide choice (tests run both).
    var backend: KernelBackend?
    var precision: Precision?
    /// Whether 3×3 and 5×5 shapes may run on Winograd (inference's and training's), when not the process-wide choice.
    var winograd: Bool?
    /// The reference kernel: the oracle, and the fall-back.
    private let reference: Im2colConvolution
    /// A primitive is made for one shape in one precision (a layer may switch: tests compare the two).
    private struct PrimitiveKey: Hashable {
        let shape: ConvolutionShape
        let precision: Precision
    }
    private var primitives: [PrimitiveKey: OneDNNConvolution] = [:]
    /// Keys in the order their primitives were made (the oldest goes first when the cache is full).
    private var primitiveOrder: [PrimitiveKey] = []
    /// The Winograd kernel of the inference shapes it handles (3×3 and 5×5, stride 1, fp32): one for
    /// every shape, its workspaces sized for the largest seen, as the reference kernel's are.
    private var winogradKernel: WinogradConvolution?
    /// Shapes oneDNN refused in a precision, which run on the reference kernel in it (bf16 refused on a CPU
    /// without it leaves fp32 on oneDNN).
    private var refused: Set<PrimitiveKey> = []
    /// Training shapes whose weight gradient oneDNN computes as im2col + its own gemm ("gemm:jit": on AVX2,
    /// the first convolution after Sobel, two input channels, among others): they train on im2col +
    /// OpenBLAS's sgemm, which keeps the forward's columns for the backward. Fashion-MNIST's conv1 (2 → 32,
    /// 5×5, 28 px): forward and backward 37–38 ms against oneDNN's 40–58 per 256 images; AlexNet's (2 → 96,
    /// 11×11 stride 4, 224 px): 156–171 against 167–177 per 32 (`bench step --profile --threads 1`, Zen 3).
    private var onOpenBLAS: Set<ConvolutionShape> = []
    private lazy var openBLAS = Im2colConvolution(shape: reference.shape, label: "im2col")
    /// How many shapes' oneDNN primitives a layer keeps.
    static let cacheSize = 4

    /// Whether the layer's weights train (Sobel's fixed filters do not: no weight gradient to speed up).
    private let hasWeightGradient: Bool

    init(name: String, referenceShape: ConvolutionShape, hasWeightGradient: Bool = true) {
        self.name = name
        self.hasWeightGradient = hasWeightGradient
        reference = Im2colConvolution(shape: referenceShape)
    }

    /// The kernel for a shape: Winograd (F(4×4, 3×3), F(2×2, 5×5)) for an fp32 shape it handles (unless
    /// `KernelBackend.winogradInference`, or for a training shape `winogradTraining`, is off), else oneDNN's primitive
    /// (created on first use) unless the reference is chosen or oneDNN refused the shape, in which case a note says
    /// so once; a training shape whose forward Winograd runs faster but whose backward it runs slower (32 to 63
    /// input channels) splits between the two (`SplitConvolution`); a training shape whose oneDNN weight gradient is
    /// gemm-based runs on im2col + OpenBLAS (`onOpenBLAS`).
    func kernel(for shape: ConvolutionShape) -> ConvolutionKernel {
        let chosen = backend ?? KernelBackend.current
        let allowed = winograd ?? (shape.training ? KernelBackend.winogradTraining : KernelBackend.winogradInference)
        let precision = self.precision ?? KernelBackend.precision
        let winogradAllowed = chosen == .onednn && allowed && precision == .fp32
        if winogradAllowed && WinogradConvolution.handles(shape) { return winogradKernel(shape) }
        if chosen == .onednn && onOpenBLAS.contains(shape) {
            openBLAS.shape = shape
            return openBLAS
        }
        let key = PrimitiveKey(shape: shape, precision: precision)
        if chosen == .onednn && !refused.contains(key) {
            do {
                let p = try primitive(key)
                if onOpenBLAS.contains(shape) {
                    openBLAS.shape = shape
                    return openBLAS
                }
                if winogradAllowed && shape.training && hasWeightGradient && WinogradConvolution.handlesForward(shape) {
                    return SplitConvolution(winograd: winogradKernel(shape), oneDNN: p)
                }
                return p
            } catch {
                refused.insert(key)
                KernelBackend.note("\(name): \(error); this shape runs on the reference kernels")
            }
        }
        reference.shape = shape
        return reference
    }

    /// The layer's Winograd kernel, set to `shape`.
    private func winogradKernel(_ shape: ConvolutionShape) -> WinogradConvolution {
        if let w = winogradKernel {
            w.shape = shape
            return w
        }
        let w = WinogradConvolution(shape: shape)
        winogradKernel = w
        return w
    }

    /// oneDNN's primitive for `key`, made on first use and cached; a training shape whose fp32 weight gradient
    /// oneDNN computes as gemm joins `onOpenBLAS` (a choice for speed, not a failure: no note; bench's
    /// convolution_kernels shows "im2col").
    private func primitive(_ key: PrimitiveKey) throws -> OneDNNConvolution {
        if let p = primitives[key] { return p }
        let shape = key.shape
        let p = try OneDNNConvolution(shape: shape, precision: key.precision)
        if shape.training && hasWeightGradient && key.precision == .fp32 && p.weightGradientImplementation.contains("gemm") {
            onOpenBLAS.insert(shape)
        }
        if primitiveOrder.count >= Self.cacheSize { primitives[primitiveOrder.removeFirst()] = nil }
        primitives[key] = p
        primitiveOrder.append(key)
        return p
    }

    /// The reference kernel after oneDNN failed during a call (never expected; noted once). It
    /// recomputes its columns, so it can also take over a backward from oneDNN's forward.
    func fallBack(_ shape: ConvolutionShape, _ error: Error) -> ConvolutionKernel {
        let key = PrimitiveKey(shape: shape, precision: precision ?? KernelBackend.precision)
        refused.insert(key)
        primitives[key] = nil
        primitiveOrder.removeAll { $0 == key }
        KernelBackend.note("\(name): \(error); this shape runs on the reference kernels")
        reference.shape = shape
        reference.forgetRetained()
        return reference
    }

    /// What ran a kernel: "onednn:<implementation>", "winograd:f4x3" / "winograd:f2x5", "winograd:f2x5+onednn:<the
    /// backward's implementation>" (split: the forward on Winograd), "im2col" (chosen over oneDNN's gemm-based weight
    /// gradient) or "reference".
    static func describe(_ kernel: ConvolutionKernel?) -> String {
        if let p = kernel as? OneDNNConvolution { return "onednn:\(p.implementation)" }
        if let s = kernel as? SplitConvolution { return "winograd:\(s.winograd.name)+onednn:\(s.oneDNN.implementation)" }
        if let w = kernel as? WinogradConvolution { return "winograd:\(w.name)" }
        if let r = kernel as? Im2colConvolution { return r.label }
        return "none"
    }
}
