import Datasets
import Foundation
import Testing

@Suite struct TarShardsTests {
    static let shards = ImageFixture.directory + "/shards"

    /// shards/ and shards.json: make_shard_fixture.py (Python's tarfile: ustar, GNU and pax headers).
    static let expected: [[String: Any]] = {
        let d = try! Data(contentsOf: URL(fileURLWithPath: ImageFixture.directory + "/shards.json"))
        return try! JSONSerialization.jsonObject(with: d) as! [[String: Any]]
    }()

    @Test func braceExpansionAsTheShellDoes() throws {
        #expect(try BraceExpansion.expand("d/shard-{000008..000011}.tar") == ["d/shard-000008.tar", "d/shard-000009.tar", "d/shard-000010.tar", "d/shard-000011.tar"])
        #expect(try BraceExpansion.expand("{a,b}-{0..1}.tar") == ["a-0.tar", "a-1.tar", "b-0.tar", "b-1.tar"])
        #expect(try BraceExpansion.expand("plain.tar") == ["plain.tar"])
        #expect(throws: DatasetError.self) { try BraceExpansion.expand("x-{3..1}.tar") }
        #expect(throws: DatasetError.self) { try BraceExpansion.expand("x-{3.tar") }
    }

    @Test func samplesLabelsAndPixelsFromEveryHeaderFormat() throws {
        let decoded = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ImageFixture.directory + "/decoders.json"))) as! [String: [String: Any]]
        for spec in [Self.shards, Self.shards + "/shard-{000000..000002}.tar"] {
            let set = try TarShards(spec)
            #expect(TarShards.names(spec))
            #expect(set.count == Self.expected.count && set.shards.count == 3)
            #expect(set.labels == Self.expected.map { Int32(($0["label"] as! NSNumber).intValue) })
            #expect(set.channels == 3)
            for (i, e) in Self.expected.enumerated() {
                #expect(set.samples[i].name == e["name"] as! String)
                #expect(set.check(i, decode: true) == nil, "\(e["name"]!)")
                let im = try set.image(i)
                let want = decoded[e["image"] as! String]!
                #expect([im.channels, im.height, im.width] == ImageFixture.ints(want["shape"]))
                #expect(im.pixels.map(Int.init) == ImageFixture.ints(want["pixels"]), "\(e["name"]!)")
            }
            // The sample without an image member is named, not counted.
            #expect(set.listingProblems.count == 1 && set.listingProblems[0].reason.contains("without a .jpg"))
        }
        let one = try TarShards(Self.shards + "/shard-000001.tar")
        #expect(one.count == 2 && one.samples[0].name.count > 100 && one.location(0).hasSuffix("/long.jpg"))
    }

    @Test func aTruncatedShardIsNamedAndItsWholeMembersKept() throws {
        let set = try TarShards(ImageFixture.directory + "/broken/cut.tar")
        #expect(set.count == 1)
        #expect(set.listingProblems.count == 1 && set.listingProblems[0].reason.contains("truncated"), "\(set.listingProblems)")
        #expect(set.listingProblems[0].location.hasSuffix("cut.tar"))
        #expect(set.check(0, decode: true) == nil)
        // A missing shard of a pattern is a missing file.
        #expect(throws: DatasetError.missing(path: Self.shards + "/shard-000003.tar")) { _ = try TarShards(Self.shards + "/shard-{000000..000003}.tar") }
    }

    @Test func fingerprintFollowsNamesAndSizes() throws {
        let a = try TarShards(Self.shards), b = try TarShards(Self.shards + "/shard-{000000..000002}.tar")
        #expect(a.fingerprint() == b.fingerprint())
        #expect(try TarShards(Self.shards + "/shard-{000000..000001}.tar").fingerprint() != a.fingerprint())
        #expect(a.limited(to: 2).count == 2)
    }
}
