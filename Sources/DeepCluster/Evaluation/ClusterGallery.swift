import Datasets
import Foundation
import Tensor

/// A picture of every cluster: which images stand for it (the ones nearest its centre and a few
/// drawn at random from its members), its size and, where labels exist, its majority label and
/// purity; written as one PNG contact sheet per cluster and HTML pages that show them by size.
public struct ClusterGallery {
    public struct Cluster: Sendable {
        public let id: Int
        public let size: Int
        /// Members nearest the centre, nearest first; then random members (not among those), seeded.
        public let nearest: [Int]
        public let random: [Int]
        /// The most frequent label among the members and its share, where labels exist.
        public let majority: Int32?
        public let purity: Double?
    }

    public let clusters: [Cluster]
    public let clusterCount: Int

    /// `assignments` and `scores` of every image (head 0); `higherIsCloser` says which way scores point.
    /// Clusters are sorted by size, largest first; `largest` keeps that many (nil: every non-empty one).
    public init(assignments: [Int32], scores: [Float], higherIsCloser: Bool, clusters k: Int, labels: [Int32]?,
                nearest: Int = 8, random: Int = 8, largest: Int? = nil, seed: UInt64 = 0) {
        var members = [[Int]](repeating: [], count: k)
        for (i, c) in assignments.enumerated() where c >= 0 && Int(c) < k { members[Int(c)].append(i) }
        var out: [Cluster] = []
        for (c, list) in members.enumerated() where !list.isEmpty {
            let sorted = list.sorted { higherIsCloser ? scores[$0] > scores[$1] : scores[$0] < scores[$1] }
            let near = Array(sorted.prefix(nearest))
            var rest = Array(sorted.dropFirst(nearest))
            var generator = RandomGenerator(seed: seed, purpose: .gallery, c)
            generator.shuffle(&rest)
            var majority: Int32?, purity: Double?
            if let labels {
                var counts: [Int32: Int] = [:]
                for i in list { counts[labels[i], default: 0] += 1 }
                let top = counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }!
                majority = top.key
                purity = Double(top.value) / Double(list.count)
            }
            out.append(Cluster(id: c, size: list.count, nearest: near, random: Array(rest.prefix(random)).sorted(), majority: majority, purity: purity))
        }
        out.sort { $0.size > $1.size || ($0.size == $1.size && $0.id < $1.id) }
        clusters = largest.map { Array(out.prefix($0)) } ?? out
        clusterCount = k
    }

    /// The sheet's file name of a cluster.
    public static func sheetName(_ id: Int) -> String { String(format: "sheets/cluster-%05d.png", id) }

    /// HTML pages of `perPage` clusters each: index.html, page-2.html, …; returns their names.
    public func writePages(to dir: String, title: String, perPage: Int = 100, labelNames: [String] = [],
                           thumbnail: Int, columns: Int) throws -> [String] {
        let pages = max(1, (clusters.count + perPage - 1) / perPage)
        func name(_ p: Int) -> String { p == 0 ? "index.html" : "page-\(p + 1).html" }
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        let sized = clusters.map(\.size)
        for p in 0..<pages {
            let part = clusters[(p * perPage)..<min(clusters.count, (p + 1) * perPage)]
            var html = """
            <!doctype html><html><head><meta charset="utf-8"><title>\(escape(title))</title><style>
            body{font-family:sans-serif;margin:16px;background:#fafafa;color:#222} table{border-collapse:collapse}
            td{padding:6px 10px;border-bottom:1px solid #ddd;vertical-align:middle} th{text-align:left;padding:6px 10px}
            img{image-rendering:pixelated;display:block} .n{font-variant-numeric:tabular-nums;text-align:right} nav a{margin-right:8px}
            </style></head><body><h1>\(escape(title))</h1>
            <p>\(clusters.count) of \(clusterCount) clusters shown, largest first (sizes \(sized.min() ?? 0)–\(sized.max() ?? 0) images).
            Each picture: top row, the \(columns) images nearest the cluster's centre; bottom row, \(columns) of its other members drawn at random.</p>

            """
            if pages > 1 { html += "<nav>" + (0..<pages).map { "<a href=\"\(name($0))\">\($0 == p ? "<b>\($0 + 1)</b>" : "\($0 + 1)")</a>" }.joined() + "</nav>\n" }
            let hasLabels = clusters.first?.majority != nil
            html += "<table><tr><th>cluster</th><th class=n>images</th>" + (hasLabels ? "<th>majority label</th><th class=n>purity</th>" : "") + "<th>nearest the centre / at random</th></tr>\n"
            for c in part {
                var row = "<tr><td class=n>\(c.id)</td><td class=n>\(c.size)</td>"
                if let m = c.majority, let purity = c.purity {
                    let label = Int(m) < labelNames.count ? "\(escape(labelNames[Int(m)])) (\(m))" : "\(m)"
                    row += "<td>\(label)</td><td class=n>" + String(format: "%.0f%%", purity * 100) + "</td>"
                }
                row += "<td><img src=\"\(Self.sheetName(c.id))\" alt=\"cluster \(c.id)\" loading=\"lazy\"></td></tr>\n"
                html += row
            }
            html += "</table></body></html>\n"
            try Data(html.utf8).write(to: URL(fileURLWithPath: "\(dir)/\(name(p))"), options: .atomic)
        }
        return (0..<pages).map(name)
    }
}
