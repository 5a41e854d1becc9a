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

@Suite(.serialized) struct CheckpointSweepTests {
    func checkpoint(_ path: String, complete: Bool) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: "\(path)/model.safetensors", contents: Data([1, 2, 3]))
        if complete { FileManager.default.createFile(atPath: "\(path)/\(Checkpoint.marker)", contents: Data("ok\n".utf8)) }
    }

    /// A crash between a rewrite's two renames left the only complete copy under a temporary name:
    /// the sweep puts it back instead of deleting it; temporaries whose checkpoint is in place, half-written
    /// ones and AtomicFile's leftovers go.
    @Test func theSweepKeepsTheOnlyCompleteCopy() throws {
        let dir = NSTemporaryDirectory() + "sweep-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        try checkpoint("\(dir)/.replaced-epoch-0003-node-7-123", complete: true)         // epoch-0003 missing: restore
        try checkpoint("\(dir)/epoch-0004", complete: true)
        try checkpoint("\(dir)/.replaced-epoch-0004-node-7-123", complete: true)         // epoch-0004 in place: delete
        try checkpoint("\(dir)/.incomplete-epoch-0005-step-000010-node-7-123", complete: true)   // complete, missing: restore
        try checkpoint("\(dir)/.incomplete-epoch-0006-node-7-123", complete: false)      // half-written: delete
        try checkpoint("\(dir)/.incomplete-epoch-0007-node-7-123", complete: true)       // both copies of 7: the newer kept
        try checkpoint("\(dir)/.replaced-epoch-0007-node-7-123", complete: true)
        fm.createFile(atPath: "\(dir)/.incomplete-epoch-0007-node-7-123/newer", contents: Data())
        fm.createFile(atPath: "\(dir)/config.json.tmp-4242", contents: Data("{".utf8))
        fm.createFile(atPath: "\(dir)/config.json", contents: Data("{}".utf8))
        let held = try CheckpointDirectory(path: dir)
        let names = Set(try fm.contentsOfDirectory(atPath: dir))
        #expect(names == [".lock", "config.json", "epoch-0003", "epoch-0004", "epoch-0005-step-000010", "epoch-0007"], "\(names.sorted())")
        #expect(fm.fileExists(atPath: "\(dir)/epoch-0007/newer"))
        #expect(held.lockNote == nil)
    }

    /// NFS without lockd (ENOLCK) and Lustre mounted noflock (ENOSYS) can still hold checkpoints, with a
    /// note saying why there is no lock; a folder another job holds is refused as before.
    @Test func aFilesystemWithoutLocksSaysWhyAndGoesOn() throws {
        let dir = NSTemporaryDirectory() + "nolock-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (code, text) in [(ENOLCK, "No locks available"), (ENOSYS, "Function not implemented")] {
            setenv("DEEPCLUSTER_TEST_FLOCK_ERRNO", "\(code)", 1)
            defer { unsetenv("DEEPCLUSTER_TEST_FLOCK_ERRNO") }
            let held = try CheckpointDirectory(path: dir)
            #expect(held.lockNote?.contains(text) == true && held.lockNote?.contains("without the lock") == true, "\(held.lockNote ?? "nil")")
        }
        let first = try CheckpointDirectory(path: dir)
        #expect(first.lockNote == nil)
        #expect { _ = try CheckpointDirectory(path: dir) } throws: { "\($0)".contains("in use by another job") }
    }
}
