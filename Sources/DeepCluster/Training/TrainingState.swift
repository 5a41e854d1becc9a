import Collective
import Foundation
import NN

/// Everything training changes and a checkpoint holds, owned in one place: the model (parameters and
/// BatchNorm buffers), one optimizer whose parameter groups are the body (SGD with momentum) and the
/// top layer (re-drawn every epoch and trained by plain SGD, as the reference's `optimizer_tl`; or
/// frozen, DeepCluster-v2's prototypes), the learning rate as a function of the step, and the global
/// step. It writes itself into a checkpoint's files and restores itself from one.
public final class TrainingState {
    public enum TopLayer: Sendable {
        /// DeepCluster: new weights every epoch (the top layer's group has no momentum to reset).
        case resetEveryEpoch
        /// DeepCluster-v2: the prototypes are the k-means centroids, never trained.
        case frozen
    }

    public let model: Model
    public let optimizer: SGD
    public let topLayer: TopLayer
    /// The learning rate at (epoch, step of the epoch, steps per epoch).
    public let schedule: @Sendable (Int, Int, Int) -> Float
    /// Seeds the top layer's draws and the dropout masks.
    public let seed: UInt64
    /// Optimizer steps taken since the start of training (drives the dropout seeds).
    public var globalStep = 0

    public init(model: Model, momentum: Float, weightDecay: Float, topLayer: TopLayer, seed: UInt64,
                schedule: @escaping @Sendable (Int, Int, Int) -> Float) {
        self.model = model
        self.topLayer = topLayer
        self.schedule = schedule
        self.seed = seed
        let body = 0..<model.topRange.lowerBound
        optimizer = SGD(groups: [.init(range: body, momentum: momentum, weightDecay: weightDecay),
                                 .init(range: model.topRange, weightDecay: weightDecay, frozen: topLayer == .frozen)],
                        learningRate: schedule(0, 0, 1))
    }

    /// Sets the optimizer's rate for step `step` of `stepsPerEpoch` in `epoch`.
    public func setLearningRate(epoch: Int, step: Int, stepsPerEpoch: Int) {
        optimizer.learningRate = schedule(epoch, step, stepsPerEpoch)
    }

    /// The start of an epoch's training: DeepCluster's top layer is drawn anew, or set to `start`
    /// (made from the epoch's clustering, `--top-layer centroids`).
    public func beginEpoch(_ epoch: Int, start: (weights: [Float], bias: [Float])? = nil) {
        guard topLayer == .resetEveryEpoch else { return }
        if let start { model.setTopLayer(weights: start.weights, bias: start.bias) } else { model.resetTopLayer(seed: seed, epoch: epoch) }
    }

    /// The checkpoint's files of this state: model.safetensors (PyTorch names and layouts) and
    /// optimizer.safetensors (the momentum buffer).
    public func checkpointFiles(epoch: Int) -> [String: Data] {
        let meta = ["format": "pt", "arch": model.architecture.name, "epoch": "\(epoch)", "k": "\(model.numClasses)",
                    "sobel": model.architecture.sobel ? "true" : "false"]
        return ["model.safetensors": Checkpoint.modelData(model, metadata: meta),
                "optimizer.safetensors": Safetensors.encode([.init(name: "momentum", shape: [optimizer.velocity.count],
                                                                   floats: optimizer.velocity)])]
    }

    /// Takes a loaded checkpoint's weights, buffers, momentum and counters.
    public func restore(from loaded: Checkpoint.Loaded) throws {
        try Checkpoint.restore(loaded, into: model)
        guard loaded.momentum.count == optimizer.velocity.count else {
            throw CheckpointError.incompatible(path: loaded.path, reason: "momentum has \(loaded.momentum.count) values, the model \(optimizer.velocity.count)")
        }
        optimizer.restore(velocity: loaded.momentum, steps: loaded.state.optimizer_steps)
        globalStep = loaded.state.global_step
    }

    /// Makes every rank's weights, buffers, momentum and counters rank 0's, then checks with a
    /// fingerprint allreduce that the parameters agree (each rank read its own copy of the checkpoint).
    public func adoptRootState(_ communicator: Communicator) throws {
        try communicator.broadcast(model.store.parameters, root: 0)
        try communicator.broadcast(model.store.buffers, root: 0)
        if !optimizer.velocity.isEmpty { try communicator.broadcast(&optimizer.velocity, root: 0) }
        var counters = [Int64(globalStep), Int64(optimizer.steps)]
        try communicator.broadcast(&counters, root: 0)
        globalStep = Int(counters[0])
        optimizer.restore(velocity: optimizer.velocity, steps: Int(counters[1]))
        let sums = try Checksum.rangeOverRanks(model.store.parameters, communicator: communicator)
        guard sums.min == sums.max else { throw TrainingError.invalidConfiguration("ranks disagree on the resumed weights after broadcasting them") }
    }
}
