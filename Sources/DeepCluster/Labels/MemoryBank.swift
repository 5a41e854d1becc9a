import Collective
import Datasets
import Foundation
import Tensor

/// DeepCluster-v2's memory bank, one per rank (`swav/main_deepclusterv2.py:289-293,317-342`): the
/// L2-normalised embeddings of the first views of every image this rank trained on in the last pass,
/// written by the training step itself, so the clustering of the next epoch needs no extraction pass
/// (SwAV appendix D.2).
///
/// Its rows are laid out for one pass over an epoch's order: this rank's slice of each global batch,
/// in step order. Ranks' banks are disjoint and together cover every image of the pass, so k-means
/// over the concatenated banks sees each image once, and `indices` maps its labels back to images.
public final class MemoryBank {
    public let views: Int
    public let dimension: Int
    /// Dataset index of each row.
    public private(set) var indices: [Int] = []
    /// Per view, rows × dimension floats.
    public private(set) var embeddings: [[Float]]
    /// First row of each step's slice.
    public private(set) var stepOffsets: [Int] = []
    /// Steps whose rows hold embeddings of the current layout.
    public private(set) var stored = Set<Int>()

    public init(views: Int, dimension: Int) {
        self.views = views; self.dimension = dimension
        embeddings = Array(repeating: [], count: views)
    }

    public var count: Int { indices.count }
    public var steps: Int { stepOffsets.count }
    /// Whether every step of the layout has been stored.
    public var isComplete: Bool { !stepOffsets.isEmpty && stored.count == stepOffsets.count }

    /// Lays the bank out for a pass over `order` in global batches of `batch`; keeps nothing stored.
    public func prepare(order: [Int], batch: Int, rank: Int, size: Int) {
        indices = []
        stepOffsets = []
        stored = []
        var step = 0
        while step * batch < order.count {
            stepOffsets.append(indices.count)
            let mine = BatchSplit.slice(order, step: step, batch: batch, rank: rank, size: size)
            if mine.isEmpty { stored.insert(step) }   // nothing of this step is this rank's
            indices += mine
            step += 1
        }
        for v in 0..<views { embeddings[v] = [Float](repeating: 0, count: indices.count * dimension) }
    }

    /// Stores step `step`'s embeddings: `z` holds the step's views one after the other (view-major,
    /// `MultiCrop.batch`), `rows` images each; the first `views` of them are kept.
    public func store(step: Int, embeddings z: Tensor, rows: Int) {
        precondition(z.shape.count == 2 && z.shape[1] == dimension && z.shape[0] >= views * rows, "memory bank: got \(z.shape)")
        let at = stepOffsets[step]
        precondition(at + rows <= (step + 1 < stepOffsets.count ? stepOffsets[step + 1] : indices.count), "memory bank: step \(step) has fewer rows")
        for v in 0..<views {
            embeddings[v].withUnsafeMutableBufferPointer { e in
                (e.baseAddress! + at * dimension).update(from: z.data + v * rows * dimension, count: rows * dimension)
            }
        }
        stored.insert(step)
    }
}

extension MemoryBank {
    /// Every rank's rows in dataset order, views × n × dimension (rows no rank holds stay 0), on rank 0
    /// only (the others get an empty array and never hold the whole bank): what rank 0's checkpoint
    /// keeps, so a resumed run — on any number of ranks — clusters the same embeddings.
    public func gathered(count n: Int, communicator: Communicator) throws -> [Float] {
        let where_ = try communicator.gatherv(indices.map { Int64($0) }, root: 0)
        let isRoot = communicator.rank == 0
        var out = [Float](repeating: 0, count: isRoot ? views * n * dimension : 0)
        let d = dimension
        for v in 0..<views {
            let rows = try communicator.gatherv(embeddings[v], root: 0)
            guard isRoot else { continue }
            out.withUnsafeMutableBufferPointer { o in
                rows.withUnsafeBufferPointer { r in
                    for (j, image) in where_.enumerated() {
                        (o.baseAddress! + (v * n + Int(image)) * d).update(from: r.baseAddress! + j * d, count: d)
                    }
                }
            }
        }
        return out
    }

    /// Takes this layout's rows from a checkpoint's `memory_bank.npy` (views × n × dimension float32,
    /// dataset order), reading only those rows, and marks `steps` as stored: a rank holds its N ÷ R
    /// rows, never the whole bank.
    public func restore(fromFile path: String, count n: Int, steps: Range<Int>) throws {
        let layout = try NPY.readLayout(path)
        guard layout.dtype == .float32, layout.shape == [views, n, dimension] else {
            throw CheckpointError.incompatible(path: path, reason: "memory bank \(layout.dtype.rawValue) \(layout.shape), not float32 [\(views), \(n), \(dimension)]")
        }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CheckpointError.corrupt(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let d = dimension, rowBytes = d * 4
        for v in 0..<views {
            try embeddings[v].withUnsafeMutableBytes { e in
                for (row, image) in indices.enumerated() {
                    let at = off_t(layout.dataStart + (v * n + image) * rowBytes)
                    var done = 0
                    while done < rowBytes {
                        let got = pread(fd, e.baseAddress! + row * rowBytes + done, rowBytes - done, at + off_t(done))
                        if got < 0 && errno == EINTR { continue }
                        guard got > 0 else { throw CheckpointError.corrupt(path: path, reason: "short read of row \(image)") }
                        done += got
                    }
                }
            }
        }
        stored.formUnion(steps)
    }

    /// Takes this layout's rows from a gathered bank (`gathered`) and marks `steps` as stored.
    public func restore(from all: [Float], count n: Int, steps: Range<Int>) {
        precondition(all.count == views * n * dimension, "memory bank: \(all.count) values for \(views) × \(n) × \(dimension)")
        let d = dimension
        all.withUnsafeBufferPointer { a in
            for v in 0..<views {
                embeddings[v].withUnsafeMutableBufferPointer { e in
                    for (row, image) in indices.enumerated() {
                        (e.baseAddress! + row * d).update(from: a.baseAddress! + (v * n + image) * d, count: d)
                    }
                }
            }
        }
        stored.formUnion(steps)
    }
}
