import Tensor
import Testing

/// The one shard rule (`Shard`): extraction shards and the ranks' parts of a batch.
@Suite struct ShardTests {
    @Test func shardsTileTheDataset() {
        for size in 1...5 {
            let shards = (0..<size).map { Shard.range(count: 103, rank: $0, size: size) }
            #expect(shards.first!.lowerBound == 0 && shards.last!.upperBound == 103)
            for (a, b) in zip(shards, shards.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
        }
    }

    @Test func batchSplitSpreadsTheRemainder() {
        for size in 1...4 {
            let parts = (0..<size).map { Shard.range(count: 10, rank: $0, size: size) }
            #expect(parts.map(\.count).reduce(0, +) == 10)
            #expect(parts.map(\.count).max()! - parts.map(\.count).min()! <= 1)
            #expect(parts.first!.lowerBound == 0 && parts.last!.upperBound == 10)
        }
        #expect(Shard.range(count: 2, rank: 2, size: 3).isEmpty)
    }
}
