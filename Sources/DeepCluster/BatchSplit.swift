/// How a global batch is shared between ranks: sizes differ by at most one, the remainder going to
/// the lowest ranks, so nothing is dropped and the global batch does not depend on the rank count.
public enum BatchSplit {
    /// Positions [lo, hi) of `rank`'s part of a global batch of `total`.
    public static func range(total: Int, rank: Int, size: Int) -> Range<Int> {
        let base = total / size, extra = total % size
        let lo = rank * base + min(rank, extra)
        return lo..<(lo + base + (rank < extra ? 1 : 0))
    }
}

extension BatchSplit {
    /// `rank`'s images in global batch `step` of a pass over `order` in batches of `batch`.
    public static func slice(_ order: [Int], step: Int, batch: Int, rank: Int, size: Int) -> ArraySlice<Int> {
        let lo = step * batch, count = min(batch, order.count - lo)
        let mine = range(total: count, rank: rank, size: size)
        return order[(lo + mine.lowerBound)..<(lo + mine.upperBound)]
    }
}
