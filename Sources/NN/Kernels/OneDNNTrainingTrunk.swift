import COneDNN

/// Training's trunk on oneDNN primitives that pass NHWC activations and gradients to each other
/// (Sources/COneDNN/training_trunk.c), in bf16 under bf16 arithmetic; data is reordered from and to the
/// trainer's (C, N, H, W) fp32 at the trunk's two ends, forward and backward. Made once per input shape
/// by `TrainingTrunk`.
final class OneDNNTrainingTrunk {
    enum Stage: Equatable {
        case convolution(outChannels: Int, kernel: Int, stride: Int, padding: Int)
        /// On batch statistics, with the ReLU after it fused or not.
        case batchNorm(relu: Bool, epsilon: Float)
        case maxPooling(kernel: Int, stride: Int)
    }

    /// A stage and what its backward computes.
    struct Planned: Equatable {
        var stage: Stage
        var inputGradient: Bool
        var weightGradient: Bool
    }

    private let handle: OpaquePointer
    private var message = [CChar](repeating: 0, count: 512)

    /// Throws with oneDNN's one-line reason when it refuses a stage on this CPU.
    init(inputShape x: [Int], stages: [Planned], precision: Precision) throws {
        let described = stages.map { planned -> dc_training_stage in
            let data: Int32 = planned.inputGradient ? 1 : 0, weights: Int32 = planned.weightGradient ? 1 : 0
            switch planned.stage {
            case let .convolution(out, k, s, p):
                return dc_training_stage(kind: 0, out_channels: Int32(out), padding: Int32(p), kernel: Int32(k), stride: Int32(s),
                                         relu: 0, epsilon: 0, backward_data: data, backward_weights: weights)
            case let .batchNorm(relu, epsilon):
                return dc_training_stage(kind: 1, out_channels: 0, padding: 0, kernel: 0, stride: 0, relu: relu ? 1 : 0,
                                         epsilon: epsilon, backward_data: data, backward_weights: 0)
            case let .maxPooling(k, s):
                return dc_training_stage(kind: 2, out_channels: 0, padding: 0, kernel: Int32(k), stride: Int32(s),
                                         relu: 0, epsilon: 0, backward_data: data, backward_weights: 0)
            }
        }
        var text = [CChar](repeating: 0, count: 512)
        guard let h = dc_training_trunk_create(Int32(x[1]), Int32(x[0]), Int32(x[2]), Int32(x[3]), described, Int32(described.count),
                                               precision == .bf16 ? 1 : 0, &text, text.count) else {
            throw KernelError.onednn(String(cString: text))
        }
        handle = h
    }

    deinit { dc_training_trunk_destroy(handle) }

    private func check(_ status: Int32) throws {
        if status != 0 { throw KernelError.onednn(String(cString: message)) }
    }

    /// Stage `stage`'s parameters for the next forward and backward: a convolution's (out, in, kh, kw)
    /// weights and bias, or a BatchNorm's γ and β; read in place, so they must outlive the backward.
    func setParameters(stage: Int, _ first: UnsafePointer<Float>, _ second: UnsafePointer<Float>) throws {
        try check(dc_training_trunk_set_parameters(handle, Int32(stage), first, second, &message, message.count))
    }

    /// Runs every stage on `input` (C, N, H, W) into `output` (C', N, H', W').
    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) throws {
        try check(dc_training_trunk_forward(handle, input, output, &message, message.count))
    }

    /// A BatchNorm stage's batch mean and biased variance from the last forward.
    func statistics(stage: Int) -> (mean: UnsafePointer<Float>, variance: UnsafePointer<Float>)? {
        guard let m = dc_training_trunk_mean(handle, Int32(stage)), let v = dc_training_trunk_variance(handle, Int32(stage)) else { return nil }
        return (m, v)
    }

    /// Takes the gradient of the trunk's output, (C', N, H', W'), before `backward(stage:)` runs.
    func beginBackward(outputGradient: UnsafePointer<Float>) throws {
        try check(dc_training_trunk_backward_begin(handle, outputGradient, &message, message.count))
    }

    /// Back-propagates one stage (from the last down), adding its parameter gradients into `first` and `second`.
    func backward(stage: Int, _ first: UnsafeMutablePointer<Float>?, _ second: UnsafeMutablePointer<Float>?) throws {
        try check(dc_training_trunk_backward(handle, Int32(stage), first, second, &message, message.count))
    }

    /// What oneDNN runs stage `stage`'s forward on.
    func implementation(stage: Int) -> String { String(cString: dc_training_trunk_implementation(handle, Int32(stage))) }
}
