import Datasets
import Tensor
import Testing

@Suite struct SamplerTests {
    @Test func clustersAreSampledUniformly() {
        // Sizes from 2 to ~1600, one empty cluster.
        var assignments: [Int32] = []
        for c in 0..<20 where c != 7 { assignments += [Int32](repeating: Int32(c), count: c == 3 ? 2 : 40 * (c + 1)) }
        var rng = RandomGenerator(seed: 1)
        rng.shuffle(&assignments)
        let n = assignments.count
        let (idx, nonEmpty) = UniformClusterSampler.indices(assignments: assignments, clusters: 20, count: n, seed: 5, epoch: 3)
        #expect(nonEmpty == 19 && idx.count == n)
        var per = [Int](repeating: 0, count: 20)
        for i in idx { per[Int(assignments[i])] += 1 }
        let counts = per.enumerated().filter { $0.offset != 7 }.map(\.element)
        // ⌊N/19⌋+1 per cluster before the cut to N: within one of each other after the cut.
        #expect(counts.max()! - counts.min()! <= 1, "\(counts)")
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

    @Test func shardsTileTheDataset() {
        for size in 1...5 {
            let shards = (0..<size).map { ImageSet.shard(count: 103, rank: $0, size: size) }
            #expect(shards.first!.lowerBound == 0 && shards.last!.upperBound == 103)
            for (a, b) in zip(shards, shards.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
        }
    }
}
