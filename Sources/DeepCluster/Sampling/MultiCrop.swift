import Datasets
import Foundation
import Tensor

/// DeepCluster-v2's views of an image (`swav/src/multicropdataset.py`): groups of random resized
/// crops, each group with its own scale range, written "2x0.14-1,4x0.05-0.14" (two crops of 14–100% of
/// the area, four of 5–14%). Every view then goes through the rest of the training pipeline (flip,
/// jitter, blur) with its own draws.
///
/// All views come out at the architecture's input size: the fixed-size classifier of the AlexNet
/// tables takes one feature-map size, so the small crops of SwAV's recipe (96 px beside 224) are
/// resampled up to the input size here rather than run at a lower resolution.
public struct MultiCrop: Sendable, Equatable {
    public struct Group: Sendable, Equatable {
        public var count: Int
        public var scale: ClosedRange<Double>
    }
    public let groups: [Group]
    /// Number of views of each image.
    public var views: Int { groups.reduce(0) { $0 + $1.count } }
    /// Views whose embeddings feed k-means (`--crops_for_assign 0 1`): the first two, or the one.
    public var assignViews: Int { min(2, views) }

    public init(groups: [Group]) { self.groups = groups }

    /// Parses "COUNTxMIN-MAX[,…]". Throws one line naming what is wrong.
    public static func parse(_ spec: String) throws -> MultiCrop {
        func bad(_ why: String) -> TrainingError {
            .invalidValue(field: "crops", "'\(spec)': \(why); expected COUNTxMIN-MAX[,COUNTxMIN-MAX…], e.g. 2x0.14-1,4x0.05-0.14")
        }
        var groups: [Group] = []
        for part in spec.split(separator: ",", omittingEmptySubsequences: false) {
            let cx = part.split(separator: "x", maxSplits: 1)
            guard cx.count == 2, let count = Int(cx[0]), count >= 1, count <= 32 else { throw bad("'\(part)' has no count from 1 to 32") }
            let mm = cx[1].split(separator: "-", maxSplits: 1)
            guard mm.count == 2, let lo = Double(mm[0]), let hi = Double(mm[1]), lo > 0, lo <= hi, hi <= 1 else {
                throw bad("'\(part)' has no scale range 0 < MIN ≤ MAX ≤ 1")
            }
            groups.append(Group(count: count, scale: lo...hi))
        }
        let crops = MultiCrop(groups: groups)
        guard crops.views <= 32 else { throw bad("\(crops.views) views; at most 32") }
        return crops
    }

    public var description: String {
        groups.map { "\($0.count)x\(Self.number($0.scale.lowerBound))-\(Self.number($0.scale.upperBound))" }.joined(separator: ",")
    }
    private static func number(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }

    /// The training transform of each view: `base` with its group's scale range (when `base` crops by
    /// RandomResizedCrop; a pad-crop pipeline keeps its crop and only draws anew per view).
    public func transforms(from base: Transforms) -> [Transforms] {
        var out: [Transforms] = []
        for g in groups {
            var t = base
            if case let .resizedCrop(_, ratio) = base.augmentation { t.augmentation = .resizedCrop(scale: g.scale, ratio: ratio) }
            out += Array(repeating: t, count: g.count)
        }
        return out
    }

    /// Fills `out` with every view of `indices`, view-major: rows v·n ..< (v+1)·n of the (C, V·n, H, W)
    /// tensor are view v, so BatchNorm sees all views of the step together, as SwAV's concatenated batch.
    public static func batch(_ views: [Transforms], source: any ImageSource, indices: ArraySlice<Int>, seed: UInt64, epoch: Int,
                             into out: Tensor) throws {
        if views.count == 1 {
            try views[0].batch(source, indices: indices, augment: true, seed: seed, epoch: epoch, into: out)
            return
        }
        let one = Tensor(shape: [0])
        let n = indices.count
        for (v, t) in views.enumerated() {
            try t.batch(source, indices: indices, augment: true, seed: seed, epoch: epoch, view: v, into: one)
            let c = one.shape[0], hw = one.shape[2] * one.shape[3]
            if v == 0 { out.resize([c, views.count * n, one.shape[2], one.shape[3]]) }
            for ch in 0..<c {
                (out.data + (ch * views.count * n + v * n) * hw).update(from: one.data + ch * n * hw, count: n * hw)
            }
        }
    }
}
