import Tensor

/// DeepCluster's sampler as the paper describes it ("sample images based on a uniform distribution
/// over the classes"), indexing dataset positions — the released code indexes the cluster-sorted
/// dataset with original indices and ends up sampling in proportion to cluster size.
///
/// Every non-empty cluster contributes ⌊N / non-empty⌋ + 1 images, without replacement when it has
/// that many and with replacement otherwise; the list is shuffled and cut to N. Drawn from the
/// (seed, sampler, epoch) generator, so every rank builds the same list and takes its own slice.
public enum UniformClusterSampler {
    public static func indices(assignments: [Int32], clusters k: Int, count n: Int, seed: UInt64, epoch: Int) -> (indices: [Int], nonEmpty: Int) {
        var members = [[Int]](repeating: [], count: k)
        for (i, a) in assignments.enumerated() { members[Int(a)].append(i) }
        let nonEmpty = members.filter { !$0.isEmpty }
        guard !nonEmpty.isEmpty else { return ([], 0) }
        let per = n / nonEmpty.count + 1
        var rng = RandomGenerator(seed: seed, purpose: .sampler, epoch)
        var out: [Int] = []
        out.reserveCapacity(per * nonEmpty.count)
        for m in nonEmpty {
            if m.count > per {
                for j in rng.distinct(per, of: m.count) { out.append(m[j]) }
            } else {
                for _ in 0..<per { out.append(m[rng.below(m.count)]) }
            }
        }
        rng.shuffle(&out)
        if out.count > n { out.removeLast(out.count - n) }
        return (out, nonEmpty.count)
    }
}
