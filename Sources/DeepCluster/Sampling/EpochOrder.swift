import Tensor

/// Orders of an epoch's samples that depend on (seed, epoch) only, so every rank draws the same one.
/// DeepCluster's balanced order is `UniformClusterSampler`'s.
public enum EpochOrder {
    /// A shuffle of 0..<n (DeepCluster-v2's order, and the pass its memory bank is filled over).
    public static func permutation(_ n: Int, seed: UInt64, epoch: Int) -> [Int] {
        var order = Array(0..<n)
        var rng = RandomGenerator(seed: seed, purpose: .permutation, epoch)
        rng.shuffle(&order)
        return order
    }
}
