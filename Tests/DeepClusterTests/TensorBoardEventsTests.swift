@testable import DeepCluster
import Foundation
import Testing

@Suite struct TensorBoardEventsTests {
    static let fixture = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path + "/tensorboard/events.out.tfevents.1700000000.fixture"

    /// The same events as make_tensorboard_fixture.py writes with TensorBoard's own protos and RecordWriter.
    @Test func theEventFileIsByteForByteTensorBoards() throws {
        let dir = NSTemporaryDirectory() + "tb-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try TensorBoardEvents(directory: dir, wallTime: 1_700_000_000, host: "fixture")
        try w.add([("train/loss", 4.5), ("clusters/nmi_labels", 0.125)], step: 0, wallTime: 1_700_000_000.25)
        try w.add([("train/loss", 3.75), ("clusters/nmi_prev", 0), ("train/learning_rate", 0.05)], step: 1, wallTime: 1_700_000_061.5)
        try w.add([("train/loss", -1.5), ("knn/top1", 0.8125), ("seconds/train", 61)], step: 12, wallTime: 1_700_000_123.75)
        #expect(w.path.hasSuffix("/events.out.tfevents.1700000000.fixture"))
        let ours = try Data(contentsOf: URL(fileURLWithPath: w.path)), theirs = try Data(contentsOf: URL(fileURLWithPath: Self.fixture))
        #expect(ours == theirs, "\(ours.count) bytes against TensorBoard's \(theirs.count)")
    }

    @Test func crc32cMatchesItsCheckValue() {
        // The CRC-32C check value of "123456789" (RFC 3720).
        #expect(TensorBoardEvents.crc32c(Array("123456789".utf8)) == 0xe306_9283)
    }
}
