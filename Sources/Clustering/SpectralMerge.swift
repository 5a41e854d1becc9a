import Tensor

/// Spectral clustering of k-means centroids: many small k-means clusters (`representatives`, e.g. 300)
/// are merged into `classes` groups by the Ng–Jordan–Weiss spectral clustering of their centroids
/// (KASP: Yan, Huang & Jordan, "Fast approximate spectral clustering", KDD 2009). Each point takes
/// its centroid's group. The centroids' graph connects each to its `neighbours` most similar ones
/// (cosine similarity, self included, symmetrised as scikit-learn's SpectralClustering does), so a
/// class that k-means with k = classes would cut through a curved or elongated region of the
/// feature space can stay whole. The merge is a few hundred points: every rank computes the same.
public enum SpectralMerge {
    /// The group (0..<classes) of each of the `count` centroids (row-major, `dimension` columns).
    public static func groups(centroids: [Float], count k: Int, dimension d: Int, classes c: Int,
                              neighbours: Int = 10, restarts: Int = 10, seed: UInt64) throws -> [Int32] {
        guard k >= c else { throw ClusteringError.tooFewPoints(needed: c, got: k, what: "a spectral merge into \(c) groups") }
        var x = centroids.map(Double.init)
        for i in 0..<k {
            var n = 0.0
            for j in 0..<d { n += x[i * d + j] * x[i * d + j] }
            let s = n > 0 ? 1 / n.squareRoot() : 0
            for j in 0..<d { x[i * d + j] *= s }
        }
        // Connectivity: each centroid to its nearest `neighbours` (itself first), then 0.5 (A + Aᵀ).
        let m = min(neighbours, k)
        var a = [Double](repeating: 0, count: k * k)
        for i in 0..<k {
            var sims = [(Double, Int)]()
            sims.reserveCapacity(k)
            for j in 0..<k {
                var s = 0.0
                for t in 0..<d { s += x[i * d + t] * x[j * d + t] }
                sims.append((j == i ? .infinity : s, j))
            }
            sims.sort { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }
            for (_, j) in sims.prefix(m) { a[i * k + j] += 0.5; a[j * k + i] += 0.5 }
        }
        // D^-1/2 A D^-1/2, whose largest eigenvectors span the graph's best `c`-way cut.
        var degree = [Double](repeating: 0, count: k)
        for i in 0..<k { for j in 0..<k { degree[i] += a[i * k + j] } }
        for i in 0..<k { for j in 0..<k { a[i * k + j] /= (degree[i] * degree[j]).squareRoot() } }
        _ = try BLAS.symmetricEigen(&a, n: k)   // ascending; columns are eigenvectors
        var u = [Float](repeating: 0, count: k * c)
        for i in 0..<k {
            var n = 0.0
            for e in 0..<c { n += a[i * k + (k - 1 - e)] * a[i * k + (k - 1 - e)] }
            let s = n > 0 ? 1 / n.squareRoot() : 0
            for e in 0..<c { u[i * c + e] = Float(a[i * k + (k - 1 - e)] * s) }
        }
        return try KMeans.bestOfRestarts(restarts) { r in
            try u.withUnsafeBufferPointer {
                try KMeans(k: c, iterations: 50, seed: seed).run($0.baseAddress!, rows: k, dimension: c, offset: 0, total: k,
                                                                  stream: r, communicator: nil)
            }
        }.assignments
    }
}
