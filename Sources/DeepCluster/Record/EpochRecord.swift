import Foundation

/// One epoch's figures, written as a JSON line by rank 0 (the contract in CLI.md).
public struct EpochRecord: Codable, Sendable {
    public struct Seconds: Codable, Sendable {
        public var extract = 0.0, pca = 0.0, kmeans = 0.0, cluster = 0.0, train = 0.0, total = 0.0
        /// Part of `train` the steps spent waiting for their input batch.
        public var input_wait = 0.0
        /// The k-NN monitor's extraction and search (--knn-every), outside `total`.
        public var knn: Double? = nil
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
    /// `--top-layer centroids`: the share of images whose largest logit of the epoch's new top layer is
    /// their pseudo-label, before training (absent with a random top layer).
    public var top_layer_agreement: Double? = nil
    /// Learning rate at the epoch's first step.
    public var learning_rate: Double? = nil
    /// The weighted k-NN classifier's top-1 on the features (--knn-every), in epochs it ran.
    public var knn_top1: Double? = nil
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
            + " (\(Int(images_per_s)) img/s)" + (knn_top1.map { String(format: "  kNN top-1 %.3f", $0) } ?? "")
            + (top_layer_agreement.map { String(format: "  top layer %.2f", $0) } ?? "")
    }
}

extension EpochRecord {
    /// The record as TensorBoard scalars: what is known of it, under tags grouped by panel.
    public var scalars: [(tag: String, value: Double)] {
        var out: [(tag: String, value: Double)] = [("train/loss", loss), ("train/images_per_s", images_per_s)]
        if let v = learning_rate { out.append(("train/learning_rate", v)) }
        if let v = nmi_prev { out.append(("clusters/nmi_previous_epoch", v)) }
        if let v = nmi_labels { out.append(("clusters/nmi_labels", v)) }
        if let v = ari_labels { out.append(("clusters/ari_labels", v)) }
        if let v = knn_top1 { out.append(("knn/top1", v)) }
        if let v = top_layer_agreement { out.append(("clusters/top_layer_agreement", v)) }
        out.append(("clusters/reseeded", Double(reseeded_clusters)))
        out.append(("clusters/smallest", Double(cluster_sizes.min)))
        out.append(("clusters/largest", Double(cluster_sizes.max)))
        if let v = kmeans_objective.last { out.append(("clusters/kmeans_objective", v)) }
        out += [("seconds/extract", seconds.extract), ("seconds/pca", seconds.pca), ("seconds/kmeans", seconds.kmeans),
                ("seconds/train", seconds.train), ("seconds/input_wait", seconds.input_wait), ("seconds/total", seconds.total)]
        if let v = seconds.knn { out.append(("seconds/knn", v)) }
        return out
    }
}
