import Collective
import CZlib
import Datasets
import Foundation
import NN

/// A checkpoint directory `epoch-NNNN/` under `--checkpoint-dir`:
/// `model.safetensors` (weights and BatchNorm buffers under PyTorch state_dict names and layouts),
/// `optimizer.safetensors` (momentum), `assignments.npy` (the epoch's pseudo-labels, for NMI to the
/// previous epoch after a resume; DeepCluster-v2: one row per head), with DeepCluster-v2 `memory_bank.npy`
/// (the memory bank in dataset order, views × N × dimension), `state.json` (epoch, step, seed, configuration, CRC-32 of every
/// file, format version) and last a `COMPLETE` marker. It is assembled under a temporary name and
/// renamed into place, so a crash leaves either the whole checkpoint or none.
public struct Checkpoint {
    public struct State: Codable {
        public var format_version = 1
        public var epoch: Int            // epochs completed
        /// Steps of epoch `epoch` already trained when the checkpoint was written on a stop signal
        /// (nil at an epoch boundary); assignments.npy then holds that epoch's pseudo-labels.
        public var step_in_epoch: Int?
        public var global_step: Int
        public var optimizer_steps: Int
        public var seed: UInt64
        public var ranks: Int
        /// What the run computes (written as "recipe"; checkpoints before the recipe had its own
        /// type hold it, with the run options, as "config", which reads the same).
        public var recipe: Recipe
        public var crc32: [String: UInt32]
        /// Images the run left out as unreadable (--skip-unreadable); absent in older checkpoints.
        public var unreadable_images: Int?

        enum CodingKeys: String, CodingKey {
            case format_version, epoch, step_in_epoch, global_step, optimizer_steps, seed, ranks, recipe, config, crc32, unreadable_images
        }

        init(epoch: Int, step_in_epoch: Int?, global_step: Int, optimizer_steps: Int, seed: UInt64, ranks: Int, recipe: Recipe,
             crc32: [String: UInt32]) {
            self.epoch = epoch; self.step_in_epoch = step_in_epoch; self.global_step = global_step
            self.optimizer_steps = optimizer_steps; self.seed = seed; self.ranks = ranks; self.recipe = recipe; self.crc32 = crc32
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            format_version = try c.decode(Int.self, forKey: .format_version)
            epoch = try c.decode(Int.self, forKey: .epoch)
            step_in_epoch = try c.decodeIfPresent(Int.self, forKey: .step_in_epoch)
            global_step = try c.decode(Int.self, forKey: .global_step)
            optimizer_steps = try c.decode(Int.self, forKey: .optimizer_steps)
            seed = try c.decode(UInt64.self, forKey: .seed)
            ranks = try c.decode(Int.self, forKey: .ranks)
            recipe = try c.decodeIfPresent(Recipe.self, forKey: .recipe) ?? c.decode(Recipe.self, forKey: .config)
            crc32 = try c.decode([String: UInt32].self, forKey: .crc32)
            unreadable_images = try c.decodeIfPresent(Int.self, forKey: .unreadable_images)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(format_version, forKey: .format_version); try c.encode(epoch, forKey: .epoch)
            try c.encodeIfPresent(step_in_epoch, forKey: .step_in_epoch); try c.encode(global_step, forKey: .global_step)
            try c.encode(optimizer_steps, forKey: .optimizer_steps); try c.encode(seed, forKey: .seed)
            try c.encode(ranks, forKey: .ranks); try c.encode(recipe, forKey: .recipe); try c.encode(crc32, forKey: .crc32)
            try c.encodeIfPresent(unreadable_images, forKey: .unreadable_images)
        }
    }

    public static let marker = "COMPLETE"

    /// "epoch-0003" after three epochs; "epoch-0003-step-000120" inside the fourth. Names sort in time order.
    public static func directoryName(epoch: Int, step: Int? = nil) -> String {
        String(format: "epoch-%04d", epoch) + (step.map { String(format: "-step-%06d", $0) } ?? "")
    }

    /// The (epoch, step) a checkpoint's name stands for — step −1 at an epoch boundary, which comes
    /// before that epoch's step checkpoints — or nil for any other name.
    public static func position(of name: String) -> (epoch: Int, step: Int)? {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "epoch", parts[1].allSatisfy(\.isNumber), let epoch = Int(parts[1]) else { return nil }
        if parts.count == 2 { return (epoch, -1) }
        guard parts.count == 4, parts[2] == "step", parts[3].allSatisfy(\.isNumber), let step = Int(parts[3]) else { return nil }
        return (epoch, step)
    }

    /// Model tensors as safetensors (BatchNorm's num_batches_tracked as I64, as PyTorch stores it).
    public static func modelData(_ model: Model, metadata: [String: String]) -> Data {
        var tensors: [Safetensors.Tensor] = []
        for e in model.store.entries {
            let base = e.kind == .parameter ? model.store.parameters.baseAddress! : model.store.buffers.baseAddress!
            let values = Array(UnsafeBufferPointer(start: base + e.offset, count: e.count))
            if e.name.hasSuffix("num_batches_tracked") {
                tensors.append(.init(name: e.name, shape: e.shape, int64s: values.map { Int64($0) }))
            } else {
                tensors.append(.init(name: e.name, shape: e.shape, floats: values))
            }
        }
        return Safetensors.encode(tensors, metadata: metadata)
    }

    /// Writes a checkpoint (rank 0 only) and prunes all but the newest `keep`. `files` and the two
    /// counters are the training state's (`TrainingState.checkpointFiles`, `globalStep`, `optimizer.steps`);
    /// `arrays` are the method's own files (`PseudoLabeler.checkpointArrays`: DeepCluster-v2's memory bank).
    public static func write(directory held: CheckpointDirectory, epoch: Int, stepInEpoch: Int? = nil,
                             files stateFiles: [String: Data], globalStep: Int, optimizerSteps: Int, ranks: Int,
                             assignments: [Int32], arrays: [String: (values: [Float], shape: [Int])] = [:], config: TrainingConfig,
                             unreadableImages: Int? = nil) throws {
        let fm = FileManager.default
        let directory = held.path
        let name = directoryName(epoch: epoch, step: stepInEpoch)
        let final = "\(directory)/\(name)"
        let tmp = held.temporary(for: name)
        try? fm.removeItem(atPath: tmp)
        try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        // A write that fails (a full disk, a quota) takes its half-written folder with it at once, giving
        // back the space; the previous checkpoints are untouched and stay the ones to resume from.
        var placed = false
        defer { if !placed { try? fm.removeItem(atPath: tmp) } }
        var files = stateFiles
        files["assignments.npy"] = NPY.encode(assignments.map { Int64($0) }, dtype: .int64, shape: [assignments.count])
        for (name, array) in arrays { files[name] = NPY.encode(array.values, dtype: .float32, shape: array.shape) }
        var crcs: [String: UInt32] = [:]
        for (name, data) in files {
            try AtomicFile.write(data, to: "\(tmp)/\(name)")
            crcs[name] = Checksum.crc32(data)
        }
        let state0 = State(epoch: epoch, step_in_epoch: stepInEpoch, global_step: globalStep, optimizer_steps: optimizerSteps,
                          seed: config.recipe.seed, ranks: ranks, recipe: config.recipe, crc32: crcs)
        var state = state0
        state.unreadable_images = unreadableImages
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let stateData = try enc.encode(state)
        try AtomicFile.write(stateData, to: "\(tmp)/state.json")
        // The marker holds state.json's own CRC-32: state.json lists every other file's.
        try AtomicFile.write(Data("ok state.json \(Checksum.crc32(stateData))\n".utf8), to: "\(tmp)/\(marker)")
        // For tests: a slow filesystem (seconds rank 0 spends on each checkpoint before it is complete).
        if let delay = ProcessInfo.processInfo.environment["DEEPCLUSTER_TEST_CHECKPOINT_DELAY"].flatMap(Double.init), delay > 0 {
            usleep(UInt32(min(delay, 600) * 1e6))
        }
        // A checkpoint of the same name (written again after a resume) stays until its successor is in place.
        let aside = held.replaced(for: name)
        let hadOne = fm.fileExists(atPath: final)
        if hadOne { guard rename(final, aside) == 0 else { throw CheckpointError.io(path: final, reason: "cannot move the previous copy aside: \(String(cString: strerror(errno)))") } }
        guard rename(tmp, final) == 0 else {
            if hadOne { _ = rename(aside, final) }
            throw CheckpointError.io(path: final, reason: "rename failed: \(String(cString: strerror(errno)))")
        }
        placed = true
        AtomicFile.syncDirectory(of: final)
        if hadOne { try? fm.removeItem(atPath: aside) }
        try AtomicFile.write(try enc.encode(config), to: "\(directory)/config.json")
        // Keep the newest `keep` complete checkpoints.
        let all = complete(in: directory)
        for old in all.dropLast(max(config.options.keepCheckpoints, 1)) { try? fm.removeItem(atPath: old) }
    }

    /// Complete checkpoint directories, oldest first: ordered by their epoch and step as numbers, so
    /// that `epoch-10000` comes after `epoch-9999` (the names' zero padding runs out at 4 and 6 digits).
    public static func complete(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var found: [(name: String, epoch: Int, step: Int)] = []
        for name in names {
            guard let p = position(of: name), FileManager.default.fileExists(atPath: "\(directory)/\(name)/\(marker)") else { continue }
            found.append((name, p.epoch, p.step))
        }
        found.sort { $0.epoch != $1.epoch ? $0.epoch < $1.epoch : $0.step < $1.step }
        return found.map { "\(directory)/\($0.name)" }
    }

    public struct Loaded {
        public var state: State
        public var model: [String: Safetensors.Tensor]
        public var momentum: [Float]
        public var assignments: [Int32]
        /// DeepCluster-v2's memory bank (`memory_bank.npy`, views × N × dimension in dataset order), when
        /// saved: its path, verified but not read, so that each rank reads only its own rows.
        public var memoryBankFile: String?
        public var path: String
        /// The other `.npy` files it lists (DeepCluster's clustering: `pca_mean.npy`, `pca_projection.npy`,
        /// `pca_eigenvalues.npy`, `centroids.npy`), verified, not yet decoded.
        public var arrays: [String: Data] = [:]

        /// One of `arrays`, decoded; nil when the checkpoint does not hold it.
        public func array(_ name: String) throws -> NPY.Array? {
            try arrays[name].map { try NPY.decode([UInt8]($0), path: "\(path)/\(name)") }
        }
    }

    /// Reads and verifies one checkpoint directory.
    public static func load(_ path: String) throws -> Loaded {
        func read(_ name: String) throws -> Data {
            guard let d = FileManager.default.contents(atPath: "\(path)/\(name)") else {
                throw CheckpointError.corrupt(path: "\(path)/\(name)", reason: "missing")
            }
            return d
        }
        guard FileManager.default.fileExists(atPath: "\(path)/\(marker)") else {
            throw CheckpointError.corrupt(path: path, reason: "no \(marker) marker (interrupted while writing)")
        }
        let stateData = try read("state.json")
        // Markers since format 1's second revision hold state.json's CRC-32 ("ok state.json N"); older ones just "ok".
        // Exactly one of the two shapes: "ok state.json CRC" or the older bare "ok"; anything else is damage,
        // not a reason to skip the check.
        let markerText = String(decoding: try read(marker), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let markerParts = markerText.split(separator: " ")
        if markerParts.count == 3, markerParts[0] == "ok", markerParts[1] == "state.json", let expected = UInt32(markerParts[2]) {
            if Checksum.crc32(stateData) != expected {
                throw CheckpointError.corrupt(path: "\(path)/state.json", reason: "CRC-32 \(Checksum.crc32(stateData)) does not match \(expected) in \(marker)")
            }
        } else if markerText != "ok" {
            throw CheckpointError.corrupt(path: "\(path)/\(marker)", reason: "not a marker this program writes (\(markerText.prefix(40).debugDescription))")
        }
        let state: State
        do { state = try JSONDecoder().decode(State.self, from: stateData) } catch let e as CheckpointError { throw e } catch {
            throw CheckpointError.corrupt(path: "\(path)/state.json", reason: "unreadable JSON")
        }
        var files: [String: Data] = [:]
        for (name, expected) in state.crc32 {
            if name == bankFile {
                // Verified in pieces, never held whole (1.3 GB at ImageNet size).
                let got = try Checksum.crc32(file: "\(path)/\(name)")
                guard got == expected else {
                    throw CheckpointError.corrupt(path: "\(path)/\(name)", reason: "CRC-32 \(got) does not match \(expected) in state.json")
                }
                continue
            }
            let d = try read(name)
            guard Checksum.crc32(d) == expected else {
                throw CheckpointError.corrupt(path: "\(path)/\(name)", reason: "CRC-32 \(Checksum.crc32(d)) does not match \(expected) in state.json")
            }
            files[name] = d
        }
        guard let m = files["model.safetensors"], let o = files["optimizer.safetensors"], let a = files["assignments.npy"] else {
            throw CheckpointError.corrupt(path: path, reason: "state.json does not list model, optimizer and assignments")
        }
        let model = try Safetensors.decode(m, path: "\(path)/model.safetensors").tensors
        let opt = try Safetensors.decode(o, path: "\(path)/optimizer.safetensors").tensors
        let assign = try NPY.decode([UInt8](a), path: "\(path)/assignments.npy")
        let bank = state.crc32[bankFile] == nil ? nil : "\(path)/\(bankFile)"
        let arrays = files.filter { $0.key.hasSuffix(".npy") && $0.key != "assignments.npy" }
        return Loaded(state: state, model: model, momentum: opt["momentum"]?.floats ?? [],
                      assignments: assign.int64s.map { Int32(truncatingIfNeeded: $0) }, memoryBankFile: bank, path: path, arrays: arrays)
    }

    static let bankFile = "memory_bank.npy"


    /// The newest checkpoint that verifies, with a note for each newer one that did not.
    public static func newestValid(in directory: String, warn: (String) -> Void) throws -> Loaded {
        for path in complete(in: directory).reversed() {
            do { return try load(path) } catch {
                warn("\(error); falling back to the previous checkpoint")
            }
        }
        throw CheckpointError.noCheckpoint(directory: directory)
    }

    /// Puts a loaded checkpoint's tensors into a model, checking every name and size.
    public static func restore(_ loaded: Loaded, into model: Model) throws {
        for e in model.store.entries {
            guard let t = loaded.model[e.name] else {
                throw CheckpointError.incompatible(path: loaded.path, reason: "no tensor '\(e.name)' (different --arch, --clusters, --heads or --method?)")
            }
            guard t.shape == e.shape else {
                throw CheckpointError.incompatible(path: loaded.path, reason: "'\(e.name)' has shape \(t.shape), the model \(e.shape)")
            }
            let values = t.dtype == "I64" ? t.int64s.map { Float($0) } : t.floats
            try model.store.load(e.name, values)
        }
    }
}

extension Checkpoint {
    /// Opens `path` — one checkpoint directory, or a --checkpoint-dir holding several (its newest
    /// complete one is used) — and builds the model it holds.
    public static func openModel(_ path: String, warn: (String) -> Void = { _ in }) throws -> (model: Model, loaded: Loaded) {
        let loaded = FileManager.default.fileExists(atPath: "\(path)/state.json")
            ? try load(path) : try newestValid(in: path, warn: warn)
        return (try model(for: loaded), loaded)
    }

    /// `openModel` for every rank of a job: the same checkpoint on each. Rank 0 says whether `path` is
    /// one checkpoint or a --checkpoint-dir; for a folder, rank 0 names the newest that every rank
    /// reads intact (`newestValidOnEveryRank`: a folder being written and pruned by a training job, or
    /// seen through an NFS cache, cannot give ranks different epochs); for one checkpoint, every rank
    /// must read it, or the job stops naming the rank that could not.
    public static func openModel(_ path: String, communicator comm: Communicator, warn: (String) -> Void = { _ in }) throws
        -> (model: Model, loaded: Loaded) {
        var single = [Int32(comm.isRoot && FileManager.default.fileExists(atPath: "\(path)/state.json") ? 1 : 0)]
        try comm.broadcast(&single, root: 0)
        guard single[0] == 1 else {
            let loaded = try newestValidOnEveryRank(in: path, communicator: comm, warn: warn)
            return (try model(for: loaded), loaded)
        }
        var loaded: Loaded?, failure: Error?
        do { loaded = try load(path) } catch { failure = error }
        let failing = try comm.allreduce(Int32(loaded == nil ? comm.rank : Int(Int32.max)), op: .min)
        if failing != Int32.max {
            if let failure { throw failure }
            throw CheckpointError.corrupt(path: path, reason: "cannot be read on rank \(failing)")
        }
        return (try model(for: loaded!), loaded!)
    }

    /// The model a loaded checkpoint holds, built and filled.
    public static func model(for loaded: Loaded) throws -> Model {
        let recipe = loaded.state.recipe
        let arch = try recipe.architecture()
        let head: Model.Head
        if recipe.isV2 {
            head = recipe.head(arch)
        } else {
            guard let top = loaded.model["top_layer.bias"] else {
                throw CheckpointError.incompatible(path: loaded.path, reason: "no top_layer.bias")
            }
            head = .classifier(clusters: top.shape[0])
        }
        let model = Model(architecture: arch, head: head, seed: loaded.state.seed)
        try restore(loaded, into: model)
        return model
    }
}
