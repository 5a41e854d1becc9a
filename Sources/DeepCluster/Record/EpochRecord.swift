import Foundation

/// One epoch's figures, written as a JSON line by rank 0 (the contract in CLI.md).
public struct EpochRecord: Codable, Sendable {
    public struct Seconds: Codable, Sendable {
        public var extract = 0.0, pca = 0.0, kmeans = 0.0, cluster = 0.0, train = 0.0, total = 0.0
        /// Part of `train` the steps spent waiting for their input batch.
        public var input_wait = 0.0
    }
    public struct Sizes: Codable, Sendable { public var min = 0, median = 0, max = 0 }

    public var epoch = 0
    public var loss = 0.0
    public var nmi_prev: Double? = nil
    public var nmi_labels: Double? = nil
    public var ari_labels: Double? = nil
    public var kmeans_objective: [Double] = []
    public var reseeded_clusters = 0
    public var empty_clusters = 0
    public var cluster_sizes = Sizes()
    public var seconds = Seconds()
    public var images_per_s = 0.0
    public var ranks = 1
    public var threads = 1
    public var images = 0
    /// Images left out as unreadable (--skip-unreadable); 0 when none was.
    public var unreadable_images: Int? = nil
    /// The largest peak resident set of any rank so far, in bytes.
    public var peak_rss_bytes = 0

    public init() {}

    public init(epoch: Int, ranks: Int, threads: Int, images: Int) {
        self.epoch = epoch; self.ranks = ranks; self.threads = threads; self.images = images
    }

    public func jsonLine() -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        var s = String(decoding: (try? e.encode(self)) ?? Data(), as: UTF8.self)
        // JSONEncoder omits nil optionals; the contract wants them present as null.
        for key in ["nmi_prev", "nmi_labels", "ari_labels"] where !s.contains("\"\(key)\"") {
            s.insert(contentsOf: "\"\(key)\":null,", at: s.index(after: s.startIndex))
        }
        return s
    }

    public func readableLine() -> String {
        func f(_ v: Double?, _ digits: Int = 3) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "  -  " }
        return "epoch \(String(format: "%3d", epoch))  loss \(f(loss))  NMI(t,t-1) \(f(nmi_prev))  NMI(labels) \(f(nmi_labels))"
            + "  ARI \(f(ari_labels))  k-means obj \(f(kmeans_objective.last, 1))  reseeded \(reseeded_clusters)"
            + "  sizes \(cluster_sizes.min)/\(cluster_sizes.median)/\(cluster_sizes.max)"
            + "  \(f(seconds.total, 1))s = extract \(f(seconds.extract, 1)) + cluster \(f(seconds.cluster, 2)) + train \(f(seconds.train, 1))"
            + " (\(Int(images_per_s)) img/s)"
    }
}
