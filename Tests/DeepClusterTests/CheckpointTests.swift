import DeepCluster
import Foundation
import Testing

@Suite struct SafetensorsTests {
    @Test func roundTripAndLayout() throws {
        let t = [Safetensors.Tensor(name: "b", shape: [2], floats: [1, 2]), Safetensors.Tensor(name: "a.weight", shape: [1, 3], floats: [3, 4, 5]),
                 Safetensors.Tensor(name: "n", shape: [], int64s: [7])]
        let d = Safetensors.encode(t, metadata: ["format": "pt"])
        let n = Int(d[0]) | Int(d[1]) << 8
        #expect(n % 8 == 0 && d.count == 8 + n + 28)
        let (back, meta) = try Safetensors.decode(d, path: "mem")
        #expect(back["a.weight"]!.floats == [3, 4, 5] && back["a.weight"]!.shape == [1, 3])
        #expect(back["n"]!.int64s == [7] && meta["format"] == "pt")
    }

    @Test func neverTrustsSizesOrOffsets() throws {
        let good = Safetensors.encode([Safetensors.Tensor(name: "w", shape: [4], floats: [1, 2, 3, 4])])
        var huge = good; huge[5] = 0x7f   // header length beyond the file
        #expect(throws: CheckpointError.self) { try Safetensors.decode(huge, path: "x") }
        #expect(throws: CheckpointError.self) { try Safetensors.decode(good.prefix(good.count - 4), path: "x") }
        let header = #"{"w":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}"#
        var lying = Data()
        var len = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &len) { lying.append(contentsOf: $0) }
        lying.append(Data(header.utf8)); lying.append(Data(count: 16))
        #expect(throws: CheckpointError.self) { try Safetensors.decode(lying, path: "x") }
        #expect(throws: CheckpointError.self) { try Safetensors.decode(Data([1, 2, 3]), path: "x") }
        // An element count whose byte size overflows Int (2^62 floats): refused, not a trap.
        let overflowing = #"{"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}}"#
        var wrapped = Data()
        var n = UInt64(overflowing.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { wrapped.append(contentsOf: $0) }
        wrapped.append(Data(overflowing.utf8))
        #expect(throws: CheckpointError.self) { try Safetensors.decode(wrapped, path: "x") }
    }
}

@Suite struct EpochRecordTests {
    @Test func jsonLineHasTheContractKeys() throws {
        var r = EpochRecord()
        r.epoch = 3; r.loss = 2.5; r.nmi_labels = 0.5
        let j = try JSONSerialization.jsonObject(with: Data(r.jsonLine().utf8)) as! [String: Any]
        for key in ["epoch", "loss", "nmi_prev", "nmi_labels", "ari_labels", "reseeded_clusters", "seconds", "images_per_s", "ranks"] {
            #expect(j[key] != nil, "missing \(key)")
        }
        #expect(j["nmi_prev"] is NSNull)
        #expect((j["seconds"] as! [String: Double])["train"] != nil)
    }
}

@Suite struct CheckpointOrderTests {
    /// Past epoch 9,999 the names' padding runs out: `epoch-10000` sorts before `epoch-9999` as text, and
    /// pruning by text order would delete the newest checkpoint while resume picked an old one.
    @Test func checkpointsAreOrderedByEpochAndStepAsNumbers() throws {
        let dir = NSTemporaryDirectory() + "order-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let names = ["epoch-10000", "epoch-9999", "epoch-0003-step-000120", "epoch-0003", "epoch-9999-step-1000000",
                     "epoch-9999-step-000007", "epoch-0004", "epoch-notanumber", "epoch-0005.incomplete-x"]
        for n in names {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(n)", withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: "\(dir)/\(n)/\(Checkpoint.marker)", contents: Data("ok\n".utf8))
        }
        #expect(Checkpoint.complete(in: dir).map { ($0 as NSString).lastPathComponent } ==
                ["epoch-0003", "epoch-0003-step-000120", "epoch-0004", "epoch-9999", "epoch-9999-step-000007", "epoch-9999-step-1000000", "epoch-10000"])
        #expect(Checkpoint.directoryName(epoch: 10_000) == "epoch-10000" && Checkpoint.position(of: "epoch-10000")! == (10_000, -1))
    }
}
