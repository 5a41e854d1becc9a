import Clustering

/// DeepCluster's top layer carried over from the previous epoch (`--top-layer matched`): the
/// reference draws it anew every epoch because k-means numbers its clusters arbitrarily; here the new
/// clusters are matched one to one to the old ones (the Hungarian algorithm on the images they share,
/// as clustering accuracy matches clusters to classes) and each new cluster takes its old cluster's
/// trained row. Where the labels barely change between epochs (NMI(t, t−1) of 0.7–0.8 after a few
/// epochs), the layer starts the epoch knowing most of them, at the scale training gave it.
public enum MatchedTopLayer {
    /// For each new cluster, the old cluster sharing the most images with it under a one-to-one
    /// matching (k × k contingency table, O(k³): a second at k = 3,000).
    public static func match(previous: [Int32], current: [Int32], clusters k: Int) -> [Int] {
        precondition(previous.count == current.count, "MatchedTopLayer: \(previous.count) old and \(current.count) new labels")
        var shared = [Double](repeating: 0, count: k * k)
        for (old, new) in zip(previous, current) where old >= 0 && Int(old) < k && new >= 0 && Int(new) < k {
            shared[Int(new) * k + Int(old)] -= 1
        }
        return Hungarian.solve(shared, n: k)
    }

    /// The layer's rows (weights [k, d], then k biases) reordered so that new cluster j has the row of
    /// old cluster `matching[j]`.
    public static func reorder(weights: [Float], bias: [Float], matching: [Int]) -> (weights: [Float], bias: [Float]) {
        let k = bias.count, d = weights.count / max(k, 1)
        precondition(matching.count == k && weights.count == k * d, "MatchedTopLayer: a matching of \(matching.count) for \(k) rows")
        var w = [Float](repeating: 0, count: k * d), b = [Float](repeating: 0, count: k)
        for (new, old) in matching.enumerated() {
            w[(new * d)..<((new + 1) * d)] = weights[(old * d)..<((old + 1) * d)]
            b[new] = bias[old]
        }
        return (w, b)
    }
}
