import Collective
import Datasets

/// Before any work: every rank must see the same images. Each rank's count and fingerprint (for
/// files, its sorted listing's names and sizes; for arrays in memory, their bytes) are compared by one
/// allgather; a rank with a partial copy of the folder on its node's disk, or other files of the same
/// count, ends the job with one line naming every rank's host and count.
public enum DataAgreement {
    public static func check(_ source: any ImageSource, communicator comm: Communicator) throws {
        guard comm.size > 1 else { return }
        let mine = [Int64(source.count), Int64(bitPattern: source.fingerprint())]
        let all = try comm.allgather(mine)
        let views = (0..<comm.size).map { (count: all[2 * $0], fingerprint: all[2 * $0 + 1]) }
        if views.allSatisfy({ $0 == views[0] }) { return }
        // Host names, 64 bytes each, only when there is something to report.
        var name = Array(Communicator.processorName().utf8.prefix(63))
        name += [UInt8](repeating: 0, count: 64 - name.count)
        let names = try comm.allgather(name)
        let hosts = (0..<comm.size).map { r in String(decoding: names[(r * 64)..<(r * 64 + 64)].prefix { $0 != 0 }, as: UTF8.self) }
        let sameCount = views.allSatisfy { $0.count == views[0].count }
        // Ranks grouped by what they see, the largest group first.
        var groups: [(view: (count: Int64, fingerprint: Int64), ranks: [Int])] = []
        for (r, v) in views.enumerated() {
            if let g = groups.firstIndex(where: { $0.view == v }) { groups[g].ranks.append(r) } else { groups.append((v, [r])) }
        }
        groups.sort { $0.ranks.count > $1.ranks.count }
        let parts = groups.map { g -> String in
            let who = g.ranks.prefix(8).map { "\($0) (\(hosts[$0]))" }.joined(separator: ", ") + (g.ranks.count > 8 ? " and \(g.ranks.count - 8) more" : "")
            let what = sameCount ? String(format: "listing %016llx", UInt64(bitPattern: g.view.fingerprint)) : "\(g.view.count) images"
            return "rank\(g.ranks.count > 1 ? "s" : "") \(who): \(what)"
        }
        throw TrainingError.invalidConfiguration("the ranks do not see the same data (\(source.kind)): " + parts.joined(separator: "; ")
            + (sameCount ? " (same count, other names or sizes)" : "") + "; give every rank the same copy")
    }
}
