import Collective
import Datasets
import Dispatch
import NN
import Tensor

/// Data-parallel SGD over MPI ranks: every rank holds the same parameters (rank 0's, broadcast at
/// start), computes forward and backward on its share of the global batch, and the summed gradient —
/// each rank's loss is divided by the *global* batch size, so the sum is the global batch mean's
/// gradient whatever the shares — updates every rank identically.
///
/// BatchNorm uses each rank's batch statistics in training (as PyTorch DDP); `synchronizeBuffers()`
/// averages the running statistics before extraction and checkpoints.
public final class DataParallelTrainer {
    /// The model, the optimizer and the step counter: what the steps change.
    public let state: TrainingState
    public var model: Model { state.model }
    public var optimizer: SGD { state.optimizer }
    public var globalStep: Int {
        get { state.globalStep }
        set { state.globalStep = newValue }
    }
    public let communicator: Communicator
    public let reducer: GradientReducer
    public var mode: Mode = .train
    /// What the step minimises: the method's labeler supplies it (`PseudoLabeler.loss`); the trainer
    /// knows no method.
    public var loss: any LossFunction
    /// Set by the last step when any rank has been asked to stop.
    public private(set) var stopAgreed = false
    /// For tests: the rank and step at which a NaN is injected into the input (so loss and gradient go NaN).
    public var injectNaN: (rank: Int, step: Int)?

    private let batch = Tensor(shape: [0])
    private let logitGradient = Tensor(shape: [0])
    private var labelBuffer: [Int32] = []

    public struct StepTimes {
        public var forward = 0.0, backward = 0.0, exposedCommunication = 0.0, update = 0.0, input = 0.0
    }
    public private(set) var times = StepTimes()
    /// Wall-clock (CLOCK_REALTIME, comparable between ranks of one node) end of the last step's
    /// backward and of its gradient allreduce: the communication not hidden behind backward is
    /// allreduceEnd − max over ranks of backwardEnd.
    public private(set) var lastBackwardEnd = 0.0
    public private(set) var lastAllreduceEnd = 0.0

    public init(state: TrainingState, loss: any LossFunction = CrossEntropyLoss(), communicator: Communicator, bucketBytes: Int) throws {
        self.state = state
        self.loss = loss
        self.communicator = communicator
        let model = state.model
        reducer = GradientReducer(gradients: model.store.gradients, layerRanges: model.parameterRanges,
                                   communicator: communicator, bucketBytes: bucketBytes)
        try communicator.broadcast(model.store.parameters, root: 0)
        try communicator.broadcast(model.store.buffers, root: 0)
    }

    /// A trainer at a constant learning rate with DeepCluster's top layer (the benchmarks' and diagnostics').
    public convenience init(model: Model, communicator: Communicator, learningRate: Float, momentum: Float, weightDecay: Float,
                            bucketBytes: Int, seed: UInt64) throws {
        let state = TrainingState(model: model, momentum: momentum, weightDecay: weightDecay, topLayer: .resetEveryEpoch,
                                  seed: seed) { _, _, _ in learningRate }
        try self.init(state: state, communicator: communicator, bucketBytes: bucketBytes)
    }

    /// What a step hands back: the global batch's mean loss, and this rank's embeddings of its rows
    /// (the model's embedding layer, DeepCluster-v2; valid until the next step).
    public struct StepResult {
        public var loss: Double
        public var embedding: Tensor?
    }

    /// One step on this rank's share (input already built) of a global batch of `globalBatch` rows.
    @discardableResult
    public func step(input x: Tensor, labels: [Int32], globalBatch: Int, epoch: Int = 0) throws -> StepResult {
        let t0 = Timing.now()
        model.zeroGradients()
        model.seedDropout(seed: state.seed, step: globalStep, rank: communicator.rank)
        var localLoss = 0.0
        var embedding: Tensor?
        reducer.begin()
        var t1 = t0
        if let (r, s) = injectNaN, r == communicator.rank, s == globalStep, x.count > 0 { x[0] = .nan }
        if !labels.isEmpty {
            let forward = model.forward(x, mode: mode, keeping: model.embeddingLayer)
            let logits = forward.output
            embedding = forward.kept
            localLoss = labels.withUnsafeBufferPointer {
                loss.forwardBackward(logits: logits, labels: $0, divisor: globalBatch, gradient: logitGradient)
            }
            t1 = Timing.now()
            let ranges = model.parameterRanges
            var hookError: Error?
            model.backward(logitGradient) { i in
                guard hookError == nil else { return }
                do { try self.reducer.ready(from: ranges[i].lowerBound) } catch { hookError = error }
            }
            if let e = hookError { throw e }
        } else {
            t1 = Timing.now()
        }
        let t2 = Timing.now()
        lastBackwardEnd = Timing.wallClock()
        try reducer.finish()
        lastAllreduceEnd = Timing.wallClock()
        let t3 = Timing.now()
        let flag = localLoss.isFinite && !reducer.sawNonFinite ? 0.0 : 1.0
        // One small allreduce: the global loss, whether any rank saw a non-finite value, and whether
        // any rank was asked to stop (SIGTERM/SIGINT/SIGUSR1) — so all ranks stop after the same step.
        var summary = [localLoss, flag, StopSignal.requested ? 1 : 0]
        try communicator.allreduce(&summary, op: .sum)
        stopAgreed = summary[2] > 0
        if summary[1] != 0 {
            // Every rank takes this branch in the same step; name the ranks that saw it.
            let flags = try communicator.allgather([Int32(flag)])
            let bad = flags.enumerated().filter { $0.element != 0 }.map { String($0.offset) }
            throw TrainingError.nonFinite(step: globalStep, epoch: epoch, ranks: bad.joined(separator: ", "))
        }
        optimizer.step(parameters: model.store.parameters, gradients: model.store.gradients)
        globalStep += 1
        let t4 = Timing.now()
        times.forward += t1 - t0; times.backward += t2 - t1
        times.exposedCommunication += t3 - t2; times.update += t4 - t3
        return StepResult(loss: summary[0] / Double(globalBatch), embedding: embedding)
    }

    public func resetTimes() { times = StepTimes() }

    /// Averages BatchNorm running statistics across ranks (every rank then extracts with one model).
    public func synchronizeBuffers() throws {
        guard communicator.size > 1 else { return }
        try communicator.allreduce(model.store.buffers, op: .sum)
        let inv = 1 / Float(communicator.size)
        for i in 0..<model.store.buffers.count { model.store.buffers[i] *= inv }
        // Fixed weights (Sobel) average to themselves; num_batches_tracked is the same everywhere.
    }

    /// (min, max) over ranks of a checksum of the parameters: equal iff no rank has drifted.
    public func parameterChecksum() throws -> (min: Double, max: Double) {
        try Checksum.rangeOverRanks(model.store.parameters, communicator: communicator)
    }
}

#if canImport(Glibc)
import Glibc
#endif
