import Collective
import Tensor

/// DeepCluster's top layer set from the epoch's clusters (`--top-layer centroids`), instead of drawn
/// at random as the reference does every epoch.
///
/// The reference re-draws the classifier over the new pseudo-labels each epoch, so an epoch's first
/// steps send the trunk the gradients of a random classifier; on a small set, with a few dozen steps
/// per epoch, the loss hardly leaves log k before the labels change again. This layer starts the epoch
/// already predicting the new labels, as DeepCluster-v2 (Caron et al., 2020) uses its centroids as the
/// classifier — here it is then trained like the reference's, not frozen.
///
/// It is the classifier of Gaussian clusters with one shared isotropic variance, fitted to the
/// features the top layer reads (x, after the classifier's ReLU) grouped by their new labels: with
/// m_j the mean of cluster j and s² the within-cluster variance per dimension,
///     logit_j = (m_j·x − ‖m_j‖² / 2) / s²,
/// so the largest logit is the nearest cluster mean (uniform priors: the sampler makes the clusters
/// equally likely in training). It is fitted in x's own space, not through the clustering's
/// PCA-whitening: whitening's weakest directions, scaled up a hundredfold, would turn the training
/// pass's dropout noise into logits in the hundreds.
///
/// The layer is then scaled down, as a whole, to the size of the reference's random layer (rows of
/// N(0, 0.01) weights, norm 0.01·√d): the rule and its argmax stay, the softmax starts flat, and the
/// trunk's gradients, which pass through the layer, keep the size the learning rate was set for. At
/// the posterior's own scale a young network's small features (s² of 10⁻⁴) make weights in the
/// hundreds, and the first steps diverge.
public struct CentroidTopLayer {
    /// [clusters, inputDimension], as `Linear` stores its weight.
    public let weights: [Float]
    public let bias: [Float]
    public let clusters: Int
    public let inputDimension: Int
    /// s², the within-cluster variance per dimension over every rank's images.
    public let variance: Double
    /// The factor the posterior's logits were scaled by (the layer's logits are `scale` × those above).
    public let scale: Double

    /// `inputs`: this rank's rows (d values each) of what the top layer reads; `labels`: their
    /// clusters in 0..<k. Sums are allreduced, so every rank gets the same layer. Collective.
    public init(inputs x: UnsafePointer<Float>, rows: Int, dimension d: Int, labels: [Int32], clusters k: Int,
                communicator: Communicator?) throws {
        precondition(labels.count == rows, "CentroidTopLayer: \(labels.count) labels for \(rows) rows")
        // Per-cluster sums and counts, then the sum of squared norms (for the within-cluster spread).
        var sums = [Double](repeating: 0, count: k * d + k + 1)
        for i in 0..<rows {
            let j = Int(labels[i]), row = x + i * d
            precondition(j >= 0 && j < k, "CentroidTopLayer: label \(j) outside 0..<\(k)")
            for c in 0..<d { let v = Double(row[c]); sums[j * d + c] += v; sums[k * d + k] += v * v }
            sums[k * d + j] += 1
        }
        try communicator?.allreduce(&sums, op: .sum)
        var means = [Double](repeating: 0, count: k * d)
        var total = 0.0, between = 0.0
        for j in 0..<k {
            let n = sums[k * d + j]
            total += n
            guard n > 0 else { continue }
            for c in 0..<d { let m = sums[j * d + c] / n; means[j * d + c] = m; between += n * m * m }
        }
        // Σ‖x − m_label‖² = Σ‖x‖² − Σ_j n_j ‖m_j‖².
        let within = max(sums[k * d + k] - between, 0)
        let s2 = max(within / max(total * Double(d), 1), 1e-12)
        var w = [Float](repeating: 0, count: k * d), b = [Float](repeating: 0, count: k)
        for j in 0..<k {
            var squared = 0.0
            for c in 0..<d { let m = means[j * d + c]; w[j * d + c] = Float(m / s2); squared += m * m }
            b[j] = Float(-squared / (2 * s2))
        }
        // The reference's scale: the mean row norm of N(0, 0.01) rows of d weights.
        var rowNorms = 0.0
        for j in 0..<k { rowNorms += (0..<d).reduce(0.0) { $0 + Double(w[j * d + $1]) * Double(w[j * d + $1]) }.squareRoot() }
        let alpha = rowNorms > 0 ? 0.01 * Double(d).squareRoot() / (rowNorms / Double(k)) : 1
        for i in w.indices { w[i] = Float(Double(w[i]) * alpha) }
        for j in b.indices { b[j] = Float(Double(b[j]) * alpha) }
        // An empty cluster (none after k-means' reseeding): zero weights and a bias below every other.
        let lowest = (0..<k).filter { sums[k * d + $0] > 0 }.map { b[$0] }.min() ?? 0
        for j in 0..<k where sums[k * d + j] == 0 { b[j] = lowest - 1 - abs(lowest) }
        weights = w; bias = b; clusters = k; inputDimension = d; variance = s2; scale = alpha
    }

    /// `TopLayerAgreement.fraction` of this layer. Collective.
    public func agreement(inputs x: UnsafePointer<Float>, rows: Int, labels: [Int32], communicator: Communicator?) throws -> Double {
        try TopLayerAgreement.fraction(weights: weights, bias: bias, inputs: x, rows: rows, labels: labels, communicator: communicator)
    }
}
