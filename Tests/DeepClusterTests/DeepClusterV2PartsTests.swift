import Foundation
import Datasets
@testable import DeepCluster
import NN
import Tensor
import Testing

/// The pieces of `--method deepcluster-v2` that need no MPI job: the crop groups, the views of a
/// batch, the memory bank's layout, the labels of every view, and the preset.
@Suite struct DeepClusterV2PartsTests {
    @Test func cropSpecsParseAndBadOnesSayWhy() throws {
        let m = try MultiCrop.parse("2x0.14-1,4x0.05-0.14")
        #expect(m.groups == [.init(count: 2, scale: 0.14...1), .init(count: 4, scale: 0.05...0.14)])
        #expect(m.views == 6 && m.assignViews == 2 && m.description == "2x0.14-1,4x0.05-0.14")
        #expect(try MultiCrop.parse("1x0.2-1").assignViews == 1)
        for bad in ["", "2", "2x", "0x0.1-1", "2x0.5-0.2", "2x0-1", "2x0.1-1.5", "2x0.1-1,", "40x0.1-1"] {
            #expect(throws: TrainingError.self) { try MultiCrop.parse(bad) }
        }
    }

    @Test func viewsAreIndependentDrawsStackedViewMajor() throws {
        let set = ImageSet(pixels: (0..<(5 * 28 * 28)).map { UInt8(($0 * 13) % 256) }, count: 5, channels: 1, height: 28, width: 28, labels: nil)
        var base = Transforms.fashionMNIST
        base.augmentation = .torchvisionResizedCrop
        let views = try MultiCrop.parse("2x0.2-1,1x0.05-0.1").transforms(from: base)
        #expect(views.count == 3 && views[2].augmentation == .resizedCrop(scale: 0.05...0.1, ratio: (3.0 / 4)...(4.0 / 3)))
        let all = Tensor(shape: [0]), one = Tensor(shape: [0])
        let idx = [4, 0, 2][...]
        try MultiCrop.batch(views, source: set, indices: idx, seed: 9, epoch: 3, into: all)
        #expect(all.shape == [1, 9, 28, 28])
        // View 0 is the single-view batch of DeepCluster (same draws); view 1 is another draw.
        try views[0].batch(set, indices: idx, augment: true, seed: 9, epoch: 3, into: one)
        #expect(Array(all.array[0..<(3 * 784)]) == one.array)
        #expect(Array(all.array[(3 * 784)..<(6 * 784)]) != one.array)
    }

    @Test func memoryBankLaysOutEachRanksSlicesAndRoundTrips() throws {
        let order = [7, 3, 9, 0, 5, 1, 8, 2, 6, 4]
        // Batches of 4 over 2 ranks: rank 1 holds positions 2-3, 6-7 and 9 of the order.
        let bank = MemoryBank(views: 2, dimension: 3)
        bank.prepare(order: order, batch: 4, rank: 1, size: 2)
        #expect(bank.indices == [9, 0, 8, 2, 4] && bank.stepOffsets == [0, 2, 4] && bank.steps == 3)
        #expect(!bank.isComplete)
        for step in 0..<3 {
            let rows = step == 2 ? 1 : 2
            // Rows of view v for image i hold (v, i, c): 3 views in the step, the bank keeps the first 2.
            var values: [Float] = []
            for v in 0..<3 { for i in bank.indices[bank.stepOffsets[step]..<(bank.stepOffsets[step] + rows)] { values += (0..<3).map { Float(v * 100 + i * 10 + $0) } } }
            bank.store(step: step, embeddings: Tensor(shape: [3 * rows, 3], values: values), rows: rows)
        }
        #expect(bank.isComplete)
        #expect(bank.embeddings[1][3 * 3 + 0] == 120)   // row 3 is image 2, view 1
        // A bank restored from a dataset-order copy, under another layout, holds the same rows per image.
        var all = [Float](repeating: 0, count: 2 * 10 * 3)
        for v in 0..<2 { for (row, image) in bank.indices.enumerated() { for c in 0..<3 { all[(v * 10 + image) * 3 + c] = bank.embeddings[v][row * 3 + c] } } }
        let other = MemoryBank(views: 2, dimension: 3)
        other.prepare(order: order, batch: 4, rank: 1, size: 2)
        other.restore(from: all, count: 10, steps: 0..<3)
        #expect(other.isComplete && other.embeddings == bank.embeddings)
        // The same from a checkpoint's file, reading only this layout's rows; a file of another shape is refused.
        let file = NSTemporaryDirectory() + "bank-\(UUID().uuidString).npy"
        try NPY.encode(all, dtype: .float32, shape: [2, 10, 3]).write(to: URL(fileURLWithPath: file))
        let fromFile = MemoryBank(views: 2, dimension: 3)
        fromFile.prepare(order: order, batch: 4, rank: 1, size: 2)
        try fromFile.restore(fromFile: file, count: 10, steps: 0..<3)
        #expect(fromFile.isComplete && fromFile.embeddings == bank.embeddings)
        #expect(throws: CheckpointError.self) { try fromFile.restore(fromFile: file, count: 9, steps: 0..<3) }
        // A rank with nothing in the last batch still completes.
        let lone = MemoryBank(views: 1, dimension: 3)
        lone.prepare(order: Array(0..<5), batch: 4, rank: 1, size: 4)
        #expect(lone.indices == [1] && lone.stored == [1])
    }

    @Test func everyViewTakesItsImagesLabelInEveryHead() {
        // Two heads over 4 images: head 0 labels 10+i, head 1 labels 20+i.
        let assignments: [Int32] = [10, 11, 12, 13, 20, 21, 22, 23]
        let y = PrototypeLabeler.viewLabels([3, 1][...], views: 2, labels: PseudoLabels(heads: 2, count: 4, values: assignments))
        #expect(y == [13, 23, 11, 21, 13, 23, 11, 21])
        #expect(EpochOrder.permutation(50, seed: 1, epoch: 2) == EpochOrder.permutation(50, seed: 1, epoch: 2))
        #expect(EpochOrder.permutation(50, seed: 1, epoch: 2).sorted() == Array(0..<50))
    }

    @Test func methodDefaultsAndThePresetValidate() throws {
        var c = Recipe()
        try TrainingPreset.apply("fmnist-v2", to: &c)
        #expect(c.isV2 && c.heads == 3 && c.kmeansIterations == 10 && c.dropout == 0 && c.input == .raw)
        #expect(c.clusters == 30 && c.learningRate == 0.15 && c.epochs == 30)
        try c.validate()
        let a = try c.architecture()
        #expect(c.head(a) == .prototypes(hidden: 256, dimension: 128, clusters: [30, 30, 30]))
        #expect(try c.multiCrop().description == "2x0.2-1")
        try TrainingPreset.apply("reference", to: &c)
        #expect(!c.isV2 && c.heads == 1 && c.kmeansIterations == 20 && c.dropout == nil)
        try c.validate()
        c.heads = 2
        #expect { try c.validate() } throws: { error in
            guard case let .invalidValue(field, message)? = error as? TrainingError else { return false }
            return field == "heads" && message.contains("is for the deepcluster-v2 method")
        }
    }
}
