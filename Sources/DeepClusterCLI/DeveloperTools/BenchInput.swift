import ArgumentParser
import Collective
import DeepCluster
import Datasets
import Foundation
import NN
import Tensor

/// The input pipeline: images/s of decoding + transforms per worker thread, for Fashion-MNIST in memory
/// (IDX), a folder of PNG/JPEG images and tar shards, for the training pass (random crop + flip) and the
/// clustering pass (resize + centre crop), and how long training steps wait on their input.
struct BenchInput: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "input",
        abstract: "Input pipeline images/s per worker (IDX in memory, an image folder, tar shards) for the training and clustering transforms, and the training step's wait on input.")
    @OptionGroup var common: CommonBenchOptions
    @Option(help: "A folder of PNG/JPEG images to read (default: one made from Fashion-MNIST in a temporary directory).") var folder: String?
    @Option(help: "Tar shards of images to read as well (a brace pattern, a folder of .tar or one .tar).") var shards: String?
    @Option(help: "Architecture whose input the transforms produce: fmnist-alexnet (28 px), alexnet (224 px), ... (default: fmnist-alexnet).") var arch = "fmnist-alexnet"
    @Option(help: "Images to use and, for the made folder, to write (default: 4096).") var images = 4096
    @Option(help: "Side of the made folder's JPEGs: Fashion-MNIST resized bilinearly (default: 64).") var side = 64
    @Option(help: "Worker counts to measure, comma-separated (default: 0,1,2).") var workers = "0,1,2"
    @Option(help: "Passes to measure, comma-separated: train (random crop + flip, as train's default augmentation), cluster (resize + centre crop) (default: train).") var passes = "train"
    @Option(name: .customLong("batch-size"), help: "Images per batch (default: 256).") var batchSize = 256
    @Option(help: "Training steps of the architecture fed from the folder, for the wait on input; 0 skips them (default: 8).") var steps = 8
    @Option(help: "Rounds of every measurement; each figure is the median (default: 1).") var repeats = 1
    @Flag(name: .customLong("jpeg-draft"), help: "Decode JPEGs at 1/2, 1/4 or 1/8 size while the shorter side stays at least the clustering pass's resize (train's --jpeg-draft).") var jpegDraft = false

    func run() throws {
        let counts = workers.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ $0 >= 0 && $0 <= 64 }) else { throw ValidationError("--workers takes counts 0–64, e.g. 0,1,2") }
        guard images >= batchSize, side >= 8 else { throw ValidationError("--images must be ≥ --batch-size and --side ≥ 8") }
        let passList = passes.split(separator: ",").map(String.init)
        guard !passList.isEmpty, passList.allSatisfy({ ["train", "cluster"].contains($0) }) else { throw ValidationError("--passes takes train and/or cluster") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        let architecture: Architecture
        do { architecture = try Architecture.named(arch) } catch { throw ValidationError("--arch: \(error)") }
        common.runtime.run { comm in
            let arch = architecture
            let small = arch.inputChannels == 1
            let idx = try DatasetLoader.load(data: nil, labels: nil, format: "auto").limited(to: images)
            var dir = folder
            var made: String?
            if dir == nil {
                // One folder for the job, named after rank 0's process, written by rank 0.
                var pid = [Int64(getpid())]
                try comm.broadcast(&pid, root: 0)
                made = NSTemporaryDirectory() + "deepcluster-bench-input-\(pid[0])"
                dir = made
                if comm.isRoot { try Self.writeJPEGFolder(idx as! ImageSet, side: side, to: made!) }
                try comm.barrier()
            }
            defer { if let m = made, comm.isRoot { try? FileManager.default.removeItem(atPath: m) } }
            let draft = jpegDraft ? (arch.inputSize * 8 + 6) / 7 : 0
            let jpegs = try ImageFolder(dir!, channels: arch.inputChannels).reading(channels: nil, minimumDecodeSide: draft).limited(to: images)
            var sources: [(String, any ImageSource)] = small ? [("idx", idx)] : []
            sources.append(("folder", jpegs))
            if let shards {
                sources.append(("shards", try TarShards(shards, channels: arch.inputChannels).reading(channels: nil, minimumDecodeSide: draft).limited(to: images)))
            }
            let threads = Parallel.threads
            Parallel.threads = 1   // one thread per worker: images/s per worker means per thread
            for (name, source) in sources {
                let t = try DatasetLoader.transforms(for: source, architecture: arch, defaultDataset: name == "idx")
                let batches = source.count / batchSize
                for pass in passList {
                    for w in counts {
                        var rates: [Double] = []
                        for _ in 0..<repeats {
                            let loader = Prefetcher(batches: batches, workers: w) { i, tensor in
                                try t.batch(source, indices: Array((i * batchSize)..<((i + 1) * batchSize))[...], augment: pass == "train",
                                            seed: 1, epoch: 0, into: tensor)
                            }
                            let t0 = Timing.now()
                            for _ in 0..<batches { _ = try loader.next() }
                            let seconds = Timing.now() - t0
                            loader.finish()
                            rates.append(Double(batches * batchSize) / seconds)
                        }
                        let ips = rates.median
                        var r = BenchReport()
                        r.add("bench", "input"); r.add("source", name); r.add("kind", source.kind); r.add("workers", w)
                        r.add("images", batches * batchSize); r.add("images_per_s", ips); r.add("images_per_s_per_worker", ips / Double(max(w, 1)))
                        r.add("transform", pass == "cluster" ? "resize+center-crop" : t.augmentation == .padCrop(padding: 2) ? "pad-crop+flip" : "resized-crop+flip")
                        r.add("pass", pass); r.add("arch", arch.name); r.add("size", arch.inputSize); r.add("jpeg_draft", jpegDraft ? 1 : 0)
                        r.add("repeats", repeats); r.add("images_per_s_range", [rates.min() ?? 0, rates.max() ?? 0]); r.add("ranks", comm.size)
                        r.emit(comm, json: common.json)
                    }
                }
            }
            Parallel.threads = threads
            guard steps > 0 else { try comm.barrier(); return }
            // Training steps fed from the folder: the time each step waited for its batch.
            let model = Model(architecture: arch, numClasses: 10, seed: 0)
            let trainer = try DataParallelTrainer(model: model, communicator: comm, learningRate: 0.01, momentum: 0.9, weightDecay: 1e-5,
                                                  bucketBytes: 1 << 20, seed: 0)
            let t = try DatasetLoader.transforms(for: jpegs, architecture: arch, defaultDataset: false)
            let n = min(steps, jpegs.count / batchSize)
            for w in counts {
                let loader = Prefetcher(batches: n, workers: w) { i, tensor in
                    let mine = Shard.range(count: batchSize, rank: comm.rank, size: comm.size)
                    try t.batch(jpegs, indices: Array((i * batchSize + mine.lowerBound)..<(i * batchSize + mine.upperBound))[...],
                                augment: true, seed: 1, epoch: 0, into: tensor)
                }
                let mine = Shard.range(count: batchSize, rank: comm.rank, size: comm.size)
                let t0 = Timing.now()
                for i in 0..<n {
                    let x = try loader.next()
                    let labels = (0..<mine.count).map { Int32((i + $0) % 10) }
                    _ = try trainer.step(input: x, labels: labels, globalBatch: batchSize)
                }
                let seconds = Timing.now() - t0
                loader.finish()
                let wait = try comm.allreduce(loader.waitSeconds, op: .max)
                var r = BenchReport()
                r.add("bench", "input_wait"); r.add("source", "folder"); r.add("workers", w); r.add("steps", n)
                r.add("step_seconds", seconds / Double(n)); r.add("wait_seconds_per_step", wait / Double(n))
                r.add("wait_fraction", wait / seconds); r.add("ranks", comm.size); r.add("threads", BLAS.threads)
                r.emit(comm, json: common.json)
            }
            try comm.barrier()   // every rank is done with the folder before rank 0 removes it
        }
    }

    /// Fashion-MNIST as JPEGs (quality 90) of side × side, one subfolder per label.
    static func writeJPEGFolder(_ set: ImageSet, side: Int, to dir: String) throws {
        let box = SampleBox(offsetY: 0, offsetX: 0, scaleY: Double(set.height) / Double(side), scaleX: Double(set.width) / Double(side))
        var plane = [Float](repeating: 0, count: side * side)
        for i in 0..<set.count {
            let label = set.labels.map { Int($0[i]) } ?? 0
            let sub = "\(dir)/\(label)"
            if i < 10 || !FileManager.default.fileExists(atPath: sub) { try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true) }
            try set.withImage(i) { src, h, w in
                plane.withUnsafeMutableBufferPointer { box.sample(src, channels: 1, height: h, width: w, into: $0.baseAddress!, outHeight: side, outWidth: side) }
            }
            let im = ImageCodec.Image(pixels: plane.map { UInt8(min(max($0.rounded(), 0), 255)) }, channels: 1, height: side, width: side)
            try Data(try ImageCodec.encode(im, jpegQuality: 90)).write(to: URL(fileURLWithPath: String(format: "%@/%06d.jpg", sub, i)))
        }
    }
}
