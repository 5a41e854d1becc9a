import ArgumentParser
import Collective
import DeepCluster
import NN
import Tensor

/// Training step images/s of a model at a global batch, data-parallel over the ranks.
struct BenchStep: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "step", abstract: "Training-step images/s, GFLOP/s beside the sgemm rate, hidden allreduce.")
    @OptionGroup var common: CommonBenchOptions
    @Option(help: "Architecture (default: fmnist-alexnet).") var arch = "fmnist-alexnet"
    @Option(name: .customLong("batch-size"), help: "Global batch (default: 256).") var batchSize = 256
    @Option(help: "Top-layer outputs (default: 100).") var clusters = 100
    @Option(help: "Timed steps; the median is reported (default: 10).") var steps = 10
    @Option(help: "Untimed steps first (default: 2).") var warmup = 2
    @Option(name: .customLong("bucket-bytes"), help: "Allreduce bucket size (default: 1048576).") var bucketBytes = 1 << 20
    @Flag(help: "Also report seconds per layer (forward, backward) on rank 0.") var profile = false

    func run() throws {
        common.runtime.run { comm in
            let a = try Architecture.named(arch)
            let model = Model(architecture: a, numClasses: clusters, seed: 0)
            let trainer = try DataParallelTrainer(model: model, communicator: comm, learningRate: 0.05, momentum: 0.9,
                                                  weightDecay: 1e-5, bucketBytes: bucketBytes, seed: 0)
            let mine = Shard.range(count: batchSize, rank: comm.rank, size: comm.size)
            var rng = RandomGenerator(seed: 2, purpose: .synthetic, comm.rank)
            let x = Tensor(shape: [a.inputChannels, mine.count, a.inputSize, a.inputSize])
            for i in 0..<x.count { x[i] = Float(rng.normal()) }
            let labels = (0..<mine.count).map { _ in Int32(rng.below(clusters)) }
            let sgemm = try measureSgemm(comm)
            let peak = try measureFMAPeak(comm, threads: Parallel.threads)
            let bf16Peak = KernelBackend.precision == .bf16 ? try measureBF16Peak(comm, threads: Parallel.threads) : 0
            for _ in 0..<warmup { _ = try trainer.step(input: x, labels: labels, globalBatch: batchSize) }
            trainer.resetTimes()
            if profile { model.profile = LayerProfile(layers: model.layers.count) }
            // Hosts' clocks differ: this rank's offset from rank 0's, read by every rank as it leaves the
            // same barrier (exit skew is microseconds, the allreduce milliseconds).
            try comm.barrier()
            var stamp = [Timing.wallClock()]
            let ownStamp = stamp[0]
            try comm.broadcast(&stamp, root: 0)
            let offset = ownStamp - stamp[0]
            var times: [Double] = [], unhidden: [Double] = []
            for _ in 0..<steps {
                let t0 = Timing.now()
                _ = try trainer.step(input: x, labels: labels, globalBatch: batchSize)
                times.append(Timing.now() - t0)
                // After the timed step: how long the allreduce ran past the slowest rank's backward.
                let lastBackward = try comm.allreduce(trainer.lastBackwardEnd - offset, op: .max)
                unhidden.append(try comm.allreduce(max(0, trainer.lastAllreduceEnd - offset - lastBackward), op: .max))
            }
            // A blocking allreduce of the whole gradient, for what backward could hide.
            var blocking: [Double] = []
            if comm.size > 1 {
                for _ in 0..<10 {
                    try comm.barrier()
                    let t0 = Timing.now()
                    try comm.allreduce(model.store.gradients, op: .sum)
                    blocking.append(Timing.now() - t0)
                }
            }
            let ips = Double(batchSize) / times.median
            let gflops = 3 * model.forwardFlopsPerImage() * ips / 1e9
            let waited = trainer.times.exposedCommunication / Double(steps)
            var r = BenchReport()
            r.add("bench", "step"); r.add("arch", arch); r.add("batch", batchSize); r.add("ranks", comm.size)
            r.add("threads", BLAS.threads); r.add("images_per_s", ips); r.add("gflops", gflops)
            r.add("sgemm_gflops", sgemm); r.add("fraction_of_sgemm", gflops / sgemm); r.add("median_of", steps)
            r.add("step_seconds", times.median); r.add("openblas_core", BLAS.coreName)
            r.add("gradient_bytes", model.parameterCount * 4)
            // Backward's mean seconds (the slowest rank's): what the gradient allreduce can hide behind.
            r.add("backward_seconds", try comm.allreduce(trainer.times.backward / Double(steps), op: .max))
            // The optimizer's share of a step (SGD over the flat buffer, memory-bound).
            r.add("update_seconds", try comm.allreduce(trainer.times.update / Double(steps), op: .max))
            r.add("kernels", KernelBackend.current.rawValue); r.add("precision", KernelBackend.precision.rawValue)
            // The activations' layout between the trunk's layers in the timed steps: NHWC on the oneDNN training trunk.
            r.add("layout", model.lastLayout)
            // What ran each convolution's training step ("winograd:f4x3" on Winograd's training path). gflops and
            // fraction_of_fma_peak count a direct convolution's operations, so Winograd's can pass 1.
            r.add("convolution_kernels", convolutionKernels(model))
            r.add("isa", KernelBackend.instructionSet)
            r.add("fma_peak_gflops", peak); r.add("fraction_of_fma_peak", gflops / peak)
            if bf16Peak > 0 { r.add("bf16_peak_gflops", bf16Peak); r.add("fraction_of_bf16_peak", gflops / bf16Peak) }
            r.add("peak_rss_bytes", try largestPeakRSS(comm))
            if comm.size > 1 {
                // hidden_fraction: 1 − (allreduce time after the slowest rank's backward) / (a blocking
                // allreduce of the whole gradient). The wait at the end of a step also holds the time
                // spent waiting for slower ranks (skew), reported apart as wait_seconds.
                r.add("allreduce_seconds", blocking.median); r.add("unhidden_allreduce_seconds", unhidden.median)
                r.add("wait_seconds", waited)
                r.add("hidden_fraction", max(0, min(1, 1 - unhidden.median / blocking.median)))
            }
            r.emit(comm, json: common.json)
            if let p = model.profile, comm.isRoot {
                for (i, layer) in model.layers.enumerated() where p.forward[i] + p.backward[i] > 0 {
                    var l = BenchReport()
                    l.add("bench", "step_layer"); l.add("layer", layer.name)
                    l.add("forward_ms", 1000 * p.forward[i] / Double(steps)); l.add("backward_ms", 1000 * p.backward[i] / Double(steps))
                    l.emit(comm, json: common.json)
                }
            }
        }
    }
}

/// Eval-mode forward images/s up to the clustering feature.
struct BenchExtract: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "extract", abstract: "Feature extraction images/s, eval mode.")
    @OptionGroup var common: CommonBenchOptions
    @Option(help: "Architecture (default: fmnist-alexnet).") var arch = "fmnist-alexnet"
    @Option(name: .customLong("batch-size"), help: "Batch per rank (default: 256).") var batchSize = 256
    @Option(help: "Timed batches (default: 10).") var steps = 10
    @Flag(help: "Also report milliseconds per layer on rank 0.") var profile = false

    func run() throws {
        common.runtime.run { comm in
            let a = try Architecture.named(arch)
            let model = Model(architecture: a, numClasses: 100, seed: 0)
            var rng = RandomGenerator(seed: 3, purpose: .synthetic, comm.rank)
            let x = Tensor(shape: [a.inputChannels, batchSize, a.inputSize, a.inputSize])
            for i in 0..<x.count { x[i] = Float(rng.normal()) }
            // As FeatureExtractor does: the weights stay put over the timed batches.
            try model.withFrozenWeights {
                _ = model.forward(x, mode: .eval, through: model.featureLayer)
                let peak = try measureFMAPeak(comm, threads: Parallel.threads)
                let bf16Peak = KernelBackend.precision == .bf16 ? try measureBF16Peak(comm, threads: Parallel.threads) : 0
                var times: [Double] = []
                if profile { model.profile = LayerProfile(layers: model.layers.count) }
                for _ in 0..<steps {
                    try comm.barrier()
                    let t0 = Timing.now()
                    _ = model.forward(x, mode: .eval, through: model.featureLayer)
                    times.append(try comm.allreduce(Timing.now() - t0, op: .max))
                }
                var r = BenchReport()
                r.add("bench", "extract"); r.add("arch", arch); r.add("batch_per_rank", batchSize); r.add("ranks", comm.size)
                r.add("threads", BLAS.threads); r.add("images_per_s", Double(batchSize * comm.size) / times.median)
                let gflops = model.forwardFlopsPerImage() * Double(batchSize * comm.size) / times.median / 1e9
                r.add("gflops", gflops); r.add("fma_peak_gflops", peak); r.add("fraction_of_fma_peak", gflops / peak)
                if bf16Peak > 0 { r.add("bf16_peak_gflops", bf16Peak); r.add("fraction_of_bf16_peak", gflops / bf16Peak) }
                r.add("peak_rss_bytes", try largestPeakRSS(comm))
                r.add("median_of", steps); r.add("openblas_core", BLAS.coreName)
                r.add("kernels", KernelBackend.current.rawValue); r.add("precision", KernelBackend.precision.rawValue)
                // "NHWC" where the trunk ran as one oneDNN chain (bf16: InferenceTrunk), else "CNHW": activations travel
                // between layers as plain (C, N, H, W) and oneDNN's blocked layouts live inside its convolutions.
                r.add("layout", model.lastLayout)
                // What ran each convolution (oneDNN's direct kernels, Winograd, the reference), in the network's order.
                r.add("convolution_kernels", convolutionKernels(model))
                r.add("linear_kernels", linearKernels(model))
                r.emit(comm, json: common.json)
                if let p = model.profile, comm.isRoot {
                    for (i, layer) in model.layers.enumerated() where p.forward[i] > 0 {
                        var l = BenchReport()
                        l.add("bench", "extract_layer"); l.add("layer", layer.name)
                        l.add("forward_ms", 1000 * p.forward[i] / Double(steps))
                        l.emit(comm, json: common.json)
                    }
                }
            }
        }
    }
}

/// What ran each Linear layer of `model`'s last pass, in the network's order: "name=kernel" separated by spaces.
private func linearKernels(_ model: Model) -> String {
    model.layers.compactMap { ($0 as? Linear).map { "\($0.name)=\($0.lastKernelName)" } }.joined(separator: " ")
}

/// What ran each convolution of `model`'s last pass, in the network's order: "name=kernel" separated by spaces.
private func convolutionKernels(_ model: Model) -> String {
    model.layers.compactMap { ($0 as? Conv2d).map { "\($0.name)=\($0.lastKernelName)" } }.joined(separator: " ")
}
