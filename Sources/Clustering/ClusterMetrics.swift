/// Agreement between two labelings: NMI (arithmetic-mean normalisation, as scikit-learn ≥ 0.22),
/// ARI, and clustering accuracy under the best one-to-one matching (Hungarian algorithm).
public enum ClusterMetrics {
    /// Contingency table of two labelings with their distinct values compacted.
    static func contingency(_ a: [Int32], _ b: [Int32]) -> (table: [[Double]], rows: [Double], cols: [Double]) {
        precondition(a.count == b.count, "labelings of different lengths: \(a.count) and \(b.count)")
        var ia: [Int32: Int] = [:], ib: [Int32: Int] = [:]
        for v in a where ia[v] == nil { ia[v] = ia.count }
        for v in b where ib[v] == nil { ib[v] = ib.count }
        var t = [[Double]](repeating: [Double](repeating: 0, count: ib.count), count: ia.count)
        for i in 0..<a.count { t[ia[a[i]]!][ib[b[i]]!] += 1 }
        let rows = t.map { $0.reduce(0, +) }
        let cols = (0..<ib.count).map { j in t.reduce(0) { $0 + $1[j] } }
        return (t, rows, cols)
    }

    /// The non-zero cells of the contingency table, in (row, column) order, with the row and column
    /// sums: memory grows with the points, not with rows × columns (NMI(t, t−1) at k = 10,000 would
    /// need a 10,000² table, 800 MB, where 1.28 M points fill at most 1.28 M cells).
    static func sparseContingency(_ a: [Int32], _ b: [Int32]) -> (cells: [Double], rows: [Double], cols: [Double]) {
        precondition(a.count == b.count, "labelings of different lengths: \(a.count) and \(b.count)")
        var ia: [Int32: Int] = [:], ib: [Int32: Int] = [:]
        for v in a where ia[v] == nil { ia[v] = ia.count }
        for v in b where ib[v] == nil { ib[v] = ib.count }
        var rows = [Double](repeating: 0, count: ia.count), cols = [Double](repeating: 0, count: ib.count)
        var keys = [Int](repeating: 0, count: a.count)
        for i in 0..<a.count {
            let r = ia[a[i]]!, c = ib[b[i]]!
            rows[r] += 1; cols[c] += 1
            keys[i] = r * ib.count + c
        }
        keys.sort()
        var cells: [Double] = []
        var start = 0
        while start < keys.count {
            var end = start + 1
            while end < keys.count && keys[end] == keys[start] { end += 1 }
            cells.append(Double(end - start))
            start = end
        }
        return (cells, rows, cols)
    }

    private static func entropy(_ counts: [Double], _ n: Double) -> Double {
        counts.reduce(0) { $1 > 0 ? $0 - ($1 / n) * log($1 / n) : $0 }
    }

    public static func nmi(_ a: [Int32], _ b: [Int32]) -> Double {
        let (cells, rows, cols) = sparseContingency(a, b)
        let n = Double(a.count)
        if rows.count == 1 && cols.count == 1 || rows.isEmpty { return 1 }
        // I(A; B) = Σ n_ij/n · log(n·n_ij / (a_i·b_j)) = Σ n_ij/n · log n_ij + log n − H-terms of the margins:
        // written with the margins' sums so that only the non-zero cells are visited.
        var mi = 0.0
        for c in cells { mi += c / n * log(c) }
        mi += log(n)
        for r in rows where r > 0 { mi -= r / n * log(r) }
        for c in cols where c > 0 { mi -= c / n * log(c) }
        let norm = (entropy(rows, n) + entropy(cols, n)) / 2
        return norm > 0 ? max(0, mi) / norm : 0
    }

    public static func ari(_ a: [Int32], _ b: [Int32]) -> Double {
        let (cells, rows, cols) = sparseContingency(a, b)
        let n = Double(a.count)
        func c2(_ x: Double) -> Double { x * (x - 1) / 2 }
        let index = cells.reduce(0) { $0 + c2($1) }
        let ra = rows.reduce(0) { $0 + c2($1) }, cb = cols.reduce(0) { $0 + c2($1) }
        let expected = ra * cb / c2(n)
        let maxIndex = (ra + cb) / 2
        if rows.count == cols.count && (rows.count == 1 || rows.count == a.count) { return 1 }
        if maxIndex == expected { return 0 }
        return (index - expected) / (maxIndex - expected)
    }

    /// Fraction of points whose cluster maps to their label under the best one-to-one matching.
    public static func accuracy(labels: [Int32], clusters: [Int32]) -> Double {
        let (t, _, _) = contingency(clusters, labels)
        let size = max(t.count, t.first?.count ?? 0)
        var cost = [Double](repeating: 0, count: size * size)
        for i in 0..<t.count { for j in 0..<t[i].count { cost[i * size + j] = -t[i][j] } }
        let match = Hungarian.solve(cost, n: size)
        var hit = 0.0
        for (i, j) in match.enumerated() where i < t.count && j < t[i].count { hit += t[i][j] }
        return hit / Double(labels.count)
    }
}

/// Minimum-cost assignment on a square matrix (Kuhn–Munkres with potentials, O(n³)).
public enum Hungarian {
    /// Returns, for each row, its column.
    public static func solve(_ cost: [[Double]]) -> [Int] {
        let n = cost.count
        var flat = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<min(n, cost[i].count) { flat[i * n + j] = cost[i][j] } }
        return solve(flat, n: n)
    }

    /// `cost`: row-major n × n. One flat table and unchecked inner loops: at a few thousand classes
    /// (n³ ≈ 10¹⁰) this is the difference between seconds and minutes.
    public static func solve(_ cost: [Double], n: Int) -> [Int] {
        precondition(cost.count == n * n, "Hungarian: \(cost.count) costs for n = \(n)")
        if n == 0 { return [] }
        var u = [Double](repeating: 0, count: n + 1), v = [Double](repeating: 0, count: n + 1)
        var p = [Int](repeating: 0, count: n + 1), way = [Int](repeating: 0, count: n + 1)
        var minv = [Double](repeating: .infinity, count: n + 1)
        var used = [Bool](repeating: false, count: n + 1)
        cost.withUnsafeBufferPointer { c in
            for i in 1...n {
                p[0] = i
                var j0 = 0
                for j in 0...n { minv[j] = .infinity; used[j] = false }
                repeat {
                    used[j0] = true
                    let i0 = p[j0]
                    let row = c.baseAddress! + (i0 - 1) * n
                    let ui0 = u[i0]
                    var delta = Double.infinity, j1 = 0
                    for j in 1...n where !used[j] {
                        let cur = row[j - 1] - ui0 - v[j]
                        if cur < minv[j] { minv[j] = cur; way[j] = j0 }
                        if minv[j] < delta { delta = minv[j]; j1 = j }
                    }
                    for j in 0...n {
                        if used[j] { u[p[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
                    }
                    j0 = j1
                } while p[j0] != 0
                repeat { let j1 = way[j0]; p[j0] = p[j1]; j0 = j1 } while j0 != 0
            }
        }
        var result = [Int](repeating: 0, count: n)
        for j in 1...n where p[j] > 0 { result[p[j] - 1] = j - 1 }
        return result
    }
}

#if canImport(Glibc)
import Glibc
#endif
