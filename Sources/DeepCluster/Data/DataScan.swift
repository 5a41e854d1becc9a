import Collective
import Datasets
import Dispatch
import Foundation
import Tensor

/// The look before training: every image's header and end (`EncodedImageCheck`), or with `decode`
/// the whole image, distributed over the ranks (each its contiguous shard), so that every unreadable
/// file is named at once — not one per restart, mid-epoch. The problems are shared with every rank,
/// which can then drop the same images.
public enum DataScan {
    public enum Depth: String, CaseIterable, Codable, Sendable {
        /// Headers and end markers: a few KB per file.
        case headers
        /// Every image decoded whole: what a training pass would meet, at the cost of an extraction.
        case decode
        /// No scan (the ranks' agreement on the data is still checked).
        case none
    }

    public struct Problem: Equatable, Sendable {
        /// The image's index, nil for a problem of the listing (a truncated tar shard).
        public let index: Int?
        public let location: String
        public let reason: String
        public var line: String { "\(location): \(reason)" }
    }

    /// Every problem of `source`, the same list on every rank, ordered by image index (listing problems first).
    public static func problems(_ source: any ImageSource, depth: Depth, communicator comm: Communicator) throws -> [Problem] {
        var found = source.listingProblems.map { Problem(index: nil, location: $0.location, reason: $0.reason) }
        guard depth != .none else { return found }
        let shard = Shard.range(count: source.count, rank: comm.rank, size: comm.size)
        let workers = max(1, min(Parallel.threads * 4, 16, shard.count))
        final class Box: @unchecked Sendable { var lines: [[(Int, String)]]; init(lines: [[(Int, String)]]) { self.lines = lines } }
        let box = Box(lines: Array(repeating: [], count: workers))
        let decode = depth == .decode
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = shard.lowerBound + shard.count * w / workers, hi = shard.lowerBound + shard.count * (w + 1) / workers
            var mine: [(Int, String)] = []
            for i in lo..<hi { if let r = source.check(i, decode: decode) { mine.append((i, r)) } }
            box.lines[w] = mine
        }
        // Every rank's problems to every rank, as "index\treason\n" text.
        let text = box.lines.joined().map { "\($0.0)\t\($0.1.replacingOccurrences(of: "\n", with: " "))\n" }.joined()
        let all = try CollectiveWatchdog.patiently { try comm.allgatherv(Array(text.utf8)) }
        for line in String(decoding: all, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            guard parts.count == 2, let i = Int(parts[0]), i >= 0, i < source.count else { continue }
            found.append(Problem(index: i, location: source.location(i), reason: String(parts[1])))
        }
        return found
    }

    /// What a command does before its work: the ranks agree on the data, the scan runs, and the
    /// unreadable images are either refused (every one named by rank 0, then one line and a non-zero
    /// exit) or, with `skipUnreadable`, left out (each named in the log). Returns the images to use and
    /// how many were left out.
    public static func prepare(_ source: any ImageSource, depth: Depth, skipUnreadable: Bool, communicator comm: Communicator,
                               flag: String = "--skip-unreadable", log: (String) -> Void) throws -> (images: any ImageSource, skipped: Int) {
        try DataAgreement.check(source, communicator: comm)
        let found = try problems(source, depth: depth, communicator: comm)
        guard !found.isEmpty else { return (source, 0) }
        let bad = Set(found.compactMap(\.index))
        if comm.isRoot {
            let shown = found.prefix(1000)
            for p in shown { log("unreadable: \(p.line)") }
            if found.count > shown.count { log("unreadable: … and \(found.count - shown.count) more (deepcluster check-data lists them all)") }
        }
        let listing = found.count - bad.count
        let summary = [bad.isEmpty ? nil : "\(bad.count) of \(source.count) images cannot be read",
                       listing == 0 ? nil : "\(listing) problem\(listing == 1 ? "" : "s") with the listing of \(source.kind)"]
            .compactMap { $0 }.joined(separator: ", and ")
        guard skipUnreadable else {
            let which = found.count == 1 ? ": \(found[0].line)" : " (listed above; the first: \(found[0].line))"
            throw TrainingError.invalidConfiguration("\(summary)\(which); fix them, or pass \(flag) to go on without them")
        }
        let keep = (0..<source.count).filter { !bad.contains($0) }
        guard !keep.isEmpty else { throw TrainingError.invalidConfiguration("\(summary): none is left to use") }
        if comm.isRoot { log("\(summary): going on with the other \(keep.count) (\(flag))") }
        return (ImageSubset(source, indices: keep), bad.count)
    }
}
