import Datasets
import Foundation
import Testing

@Suite struct CIFARTests {
    func record(_ labels: [UInt8], seed: Int) -> [UInt8] { labels + (0..<CIFAR.pixelBytes).map { UInt8(($0 * 7 + seed) % 251) } }

    @Test func readsCIFAR10AndCIFAR100Records() throws {
        let ten = record([3], seed: 1) + record([9], seed: 2)
        let (p, l) = try CIFAR.decode(ten, variant: .cifar10, path: "t.bin")
        #expect(l == [3, 9] && p.count == 2 * 3072 && p[3072] == UInt8((0 * 7 + 2) % 251) && p[5] == UInt8((5 * 7 + 1) % 251))
        let hundred = record([1, 57], seed: 3)
        let (_, l100) = try CIFAR.decode(hundred, variant: .cifar100, path: "train.bin")
        #expect(l100 == [57])   // the fine label
    }

    @Test func badFilesAreRefused() throws {
        #expect(throws: DatasetError.truncated(path: "t.bin", expectedBytes: 2 * 3073, gotBytes: 3073 + 10)) {
            _ = try CIFAR.decode(self.record([1], seed: 0) + [UInt8](repeating: 0, count: 10), variant: .cifar10, path: "t.bin")
        }
        #expect { _ = try CIFAR.decode(self.record([12], seed: 0), variant: .cifar10, path: "t.bin") } throws: { "\($0)".contains("record 0 has label 12") }
    }

    @Test func folderLayoutPicksTheSplit() throws {
        let dir = NSTemporaryDirectory() + "cifar-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for b in 1...5 { try Data(record([UInt8(b)], seed: b)).write(to: URL(fileURLWithPath: "\(dir)/data_batch_\(b).bin")) }
        try Data(record([0], seed: 0) + record([7], seed: 9)).write(to: URL(fileURLWithPath: "\(dir)/test_batch.bin"))
        let train = try CIFAR.load(dir, train: true), test = try CIFAR.load(dir, train: false)
        #expect(train.count == 5 && train.labels == [1, 2, 3, 4, 5] && train.channels == 3 && train.height == 32)
        #expect(test.count == 2 && test.labels == [0, 7] && test.kind == "CIFAR-10")
        try FileManager.default.removeItem(atPath: "\(dir)/data_batch_4.bin")
        #expect(throws: DatasetError.missing(path: "\(dir)/data_batch_4.bin")) { _ = try CIFAR.load(dir, train: true) }
    }

    @Test func filesAndFoldersThatAreNotCIFARAreRefused() throws {
        let dir = NSTemporaryDirectory() + "notcifar-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(repeating: 1, count: 1000).write(to: URL(fileURLWithPath: "\(dir)/odd.bin"))
        #expect { _ = try CIFAR.load("\(dir)/odd.bin") } throws: { "\($0)".contains("1000 bytes is not a whole number of CIFAR-10") }
        #expect { _ = try CIFAR.load(dir) } throws: { "\($0)".contains("not a CIFAR folder") }
    }
}
