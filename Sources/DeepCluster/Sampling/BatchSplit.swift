import Tensor

/// How a pass over an order is cut into global batches, each shared between ranks by `Shard`.
public enum BatchSplit {
    /// `rank`'s images in global batch `step` of a pass over `order` in batches of `batch`.
    public static func slice(_ order: [Int], step: Int, batch: Int, rank: Int, size: Int) -> ArraySlice<Int> {
        let lo = step * batch, count = min(batch, order.count - lo)
        let mine = Shard.range(count: count, rank: rank, size: size)
        return order[(lo + mine.lowerBound)..<(lo + mine.upperBound)]
    }
}
