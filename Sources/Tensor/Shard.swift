/// The project's one rule for sharing `count` items between `size` ranks: contiguous parts whose
/// sizes differ by at most one, the remainder going to the lowest ranks. Extraction shards, the
/// ranks' parts of a global batch, k-means shards and the probe's shares all follow it, so nothing is
/// dropped and a global batch does not depend on the rank count.
public enum Shard {
    /// Positions [lo, hi) of `rank`'s part.
    public static func range(count: Int, rank: Int, size: Int) -> Range<Int> {
        let base = count / size, extra = count % size
        let lo = rank * base + min(rank, extra)
        return lo..<(lo + base + (rank < extra ? 1 : 0))
    }
}
