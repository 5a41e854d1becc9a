import COneDNN

/// A chain of inference convolutions and max-poolings on oneDNN primitives that pass NHWC activations
/// to each other (Sources/COneDNN/trunk.c), in bf16 under bf16 arithmetic; data is reordered from and to
/// the trainer's (C, N, H, W) fp32 once per batch. Made once per input shape by `InferenceTrunk`.
final class OneDNNTrunk {
    enum Stage: Equatable {
        /// A convolution whose BatchNorm the caller folds into its weights, with a ReLU post-op or not;
        /// `winograd`: under bf16 it may run as Winograd F(2×2, 3×3), a 5×5 filter as four 3×3 ones
        /// (CWinograd/winograd_bf16.c).
        case convolution(outChannels: Int, kernel: Int, stride: Int, padding: Int, relu: Bool, winograd: Bool = false)
        case maxPooling(kernel: Int, stride: Int)
    }

    private let handle: OpaquePointer
    private var message = [CChar](repeating: 0, count: 512)
    let stageCount: Int

    /// Throws with oneDNN's one-line reason when it refuses a stage on this CPU.
    init(inputShape x: [Int], stages: [Stage], precision: Precision) throws {
        let described = stages.map { stage -> dc_trunk_stage in
            switch stage {
            case let .convolution(out, k, s, p, relu, winograd):
                return dc_trunk_stage(pooling: 0, out_channels: Int32(out), padding: Int32(p), relu: relu ? 1 : 0,
                                      kernel: Int32(k), stride: Int32(s), winograd: winograd ? 1 : 0)
            case let .maxPooling(k, s):
                return dc_trunk_stage(pooling: 1, out_channels: 0, padding: 0, relu: 0, kernel: Int32(k), stride: Int32(s),
                                      winograd: 0)
            }
        }
        var text = [CChar](repeating: 0, count: 512)
        guard let h = dc_trunk_create(Int32(x[1]), Int32(x[0]), Int32(x[2]), Int32(x[3]), described, Int32(described.count),
                                      precision == .bf16 ? 1 : 0, &text, text.count) else {
            throw KernelError.onednn(String(cString: text))
        }
        handle = h
        stageCount = stages.count
    }

    deinit { dc_trunk_destroy(handle) }

    private func check(_ status: Int32) throws {
        if status != 0 { throw KernelError.onednn(String(cString: message)) }
    }

    /// Sets convolution stage `stage`'s (out, in, kh, kw) weights and bias (reordered into oneDNN's layout).
    func setWeights(stage: Int, weights: [Float], bias: [Float]) throws {
        try check(dc_trunk_set_weights(handle, Int32(stage), weights, bias, &message, message.count))
    }

    /// Runs every stage on `input` (C, N, H, W) into `output` (C', N, H', W').
    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) throws {
        try check(dc_trunk_forward(handle, input, output, &message, message.count))
    }

    /// What oneDNN runs stage `stage` on ("brgconv:avx512_core_bf16", ...).
    func implementation(stage: Int) -> String { String(cString: dc_trunk_implementation(handle, Int32(stage))) }
}
