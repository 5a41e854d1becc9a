import DeepCluster
import Tensor
import Testing

@Suite struct SamplerTests {
    @Test func clustersAreSampledUniformly() {
        // Sizes from 2 to ~1600, one empty cluster.
        var assignments: [Int32] = []
        // N = 7,923: ⌊N/19⌋+1 = 418 per cluster is 7,942, so the cut to N removes 19 (with 2 images in
        // cluster 3 it would remove 1, and "within one" could not fail whatever the sampler did).
        for c in 0..<20 where c != 7 { assignments += [Int32](repeating: Int32(c), count: c == 3 ? 3 : 40 * (c + 1)) }
        var rng = RandomGenerator(seed: 1)
        rng.shuffle(&assignments)
        let n = assignments.count
        let (idx, nonEmpty) = UniformClusterSampler.indices(assignments: assignments, clusters: 20, count: n, seed: 5, epoch: 3)
        #expect(nonEmpty == 19 && idx.count == n)
        var per = [Int](repeating: 0, count: 20)
        for i in idx { per[Int(assignments[i])] += 1 }
        let counts = per.enumerated().filter { $0.offset != 7 }.map(\.element)
        // 418 per cluster before the shuffled cut of 19: the tiny cluster (3 images) as often as the
        // largest (800), give or take the few the cut took from each — a proportional sampler fails here.
        let drawn = n / 19 + 1, surplus = drawn * 19 - n
        #expect(n == 7923 && surplus == 19)
        #expect(counts.allSatisfy { $0 <= drawn && $0 >= drawn - surplus } && counts.reduce(0, +) == n, "\(counts)")
        #expect(counts.max()! - counts.min()! <= 6, "\(counts)")
        // The tiny cluster is drawn with replacement and covers its three images.
        #expect(Set(idx.filter { assignments[$0] == 3 }).count == 3)
        // The list is shuffled: a batch-sized window at the start holds many clusters, not one.
        #expect(Set(idx.prefix(64).map { assignments[$0] }).count >= 10, "\(idx.prefix(64).map { assignments[$0] })")
        #expect(per[7] == 0)
        // Large clusters are drawn without replacement.
        let big = idx.filter { assignments[$0] == 19 }
        #expect(Set(big).count == big.count)
    }

    @Test func sameListOnEveryRankAndDifferentEachEpoch() {
        let a = (0..<1000).map { Int32($0 % 13) }
        let x = UniformClusterSampler.indices(assignments: a, clusters: 13, count: 1000, seed: 2, epoch: 4).indices
        let y = UniformClusterSampler.indices(assignments: a, clusters: 13, count: 1000, seed: 2, epoch: 4).indices
        let z = UniformClusterSampler.indices(assignments: a, clusters: 13, count: 1000, seed: 2, epoch: 5).indices
        #expect(x == y && x != z)
    }
}
