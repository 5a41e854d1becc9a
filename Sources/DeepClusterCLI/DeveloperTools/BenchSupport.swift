import Collective
import DeepCluster
import Dispatch
import Foundation
import NN
import Tensor

extension Array where Element == Double {
    var median: Double {
        guard !isEmpty else { return .nan }
        let s = sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

/// One benchmark result: a JSON line with --json, a readable line otherwise (rank 0 only).
struct BenchReport {
    var fields: [(String, Any)] = []
    mutating func add(_ key: String, _ value: Any) { fields.append((key, value)) }

    func emit(_ comm: Communicator, json: Bool) {
        guard comm.isRoot else { return }
        if json {
            let items = fields.map { "\"\($0.0)\": \(BenchReport.encode($0.1))" }
            print("{" + items.joined(separator: ", ") + "}")
        } else {
            print(fields.map { "\($0.0)=\(BenchReport.text($0.1))" }.joined(separator: "  "))
        }
        fflush(stdout)
    }

    static func encode(_ v: Any) -> String {
        switch v {
        case let s as String: return "\"\(s)\""
        case let d as Double: return d.isFinite ? String(format: "%.6g", d) : "null"
        case let i as Int: return "\(i)"
        case let a as [Double]: return "[" + a.map { encode($0) }.joined(separator: ", ") + "]"
        case let a as [Int]: return "[" + a.map(String.init).joined(separator: ", ") + "]"
        case let o as [(String, Any)]: return "{" + o.map { "\"\($0.0)\": \(encode($0.1))" }.joined(separator: ", ") + "}"
        case Optional<Double>.none: return "null"
        default: return "null"
        }
    }

    static func text(_ v: Any) -> String {
        switch v {
        case let d as Double: return String(format: "%.4g", d)
        case let o as [(String, Any)]: return "{" + o.map { "\($0.0): \(text($0.1))" }.joined(separator: ", ") + "}"
        default: return "\(v)"
        }
    }
}

/// The sgemm rate of this machine as the ranks see it: every rank runs a 1024³ sgemm with its own
/// threads at the same time; the figure is the sum over ranks (GFLOP/s).
/// The machine's FMA peak as the job's ranks see it: every rank's threads at once, summed (GFLOP/s).
func measureFMAPeak(_ comm: Communicator, threads: Int) throws -> Double {
    try comm.barrier()
    return try comm.allreduce(MachinePeak.fmaGFLOPs(threads: threads), op: .sum)
}

/// The machine's bf16 peak (every rank's threads at once; 0 without AVX512-BF16).
func measureBF16Peak(_ comm: Communicator, threads: Int) throws -> Double {
    try comm.barrier()
    return try comm.allreduce(MachinePeak.bf16GFLOPs(threads: threads), op: .sum)
}

/// The largest peak resident set of any rank, in bytes.
func largestPeakRSS(_ comm: Communicator) throws -> Int { try ProcessMemory.largestPeakResidentBytes(comm) }

func measureSgemm(_ comm: Communicator, n: Int = 1024, reps: Int = 5) throws -> Double {
    var rng = RandomGenerator(seed: 1)
    let a = (0..<(n * n)).map { _ in Float(rng.normal()) }
    var c = [Float](repeating: 0, count: n * n)
    BLAS.sgemm(m: n, n: n, k: n, a: a, lda: n, b: a, ldb: n, c: &c, ldc: n)
    try comm.barrier()
    var times: [Double] = []
    for _ in 0..<reps {
        let t0 = Timing.now()
        BLAS.sgemm(m: n, n: n, k: n, a: a, lda: n, b: a, ldb: n, c: &c, ldc: n)
        times.append(Timing.now() - t0)
    }
    let mine = 2 * Double(n * n * n) / times.median / 1e9
    return try comm.allreduce(mine, op: .sum)
}
