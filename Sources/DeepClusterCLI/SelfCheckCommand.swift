import ArgumentParser
import Collective
import Foundation
import Tensor

/// Exercises every collective on every rank against closed-form answers, and one sgemm against a
/// naive product. One line per check on rank 0; exit 0 only when all pass on all ranks.
struct SelfCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "selfcheck",
        abstract: "Check every collective and BLAS on every rank; one line per check.")

    @Option(help: "Make this rank fail on purpose after the first check (the job must end non-zero within seconds).")
    var failRank: Int?

    @Option(help: "BLAS threads per rank (default: cores ÷ ranks on the node).")
    var threads: Int?

    struct FailedOnPurpose: Error, CustomStringConvertible {
        let rank: Int
        var description: String { "selfcheck: failing on purpose (--fail-rank \(rank))" }
    }

    func run() throws {
        MPIRuntime.run(threads: threads) { comm in
            let w = comm.size, r = comm.rank
            var failures = 0
            var index = 0
            func check(_ name: String, _ body: () throws -> Bool) throws {
                if index == 1, let f = failRank, f == r { throw FailedOnPurpose(rank: r) }
                index += 1
                let ok = try body()
                let all = try comm.allreduce(Int32(ok ? 1 : 0), op: .min) == 1
                if !all { failures += 1 }
                MPIRuntime.say(comm, "\(all ? "ok  " : "FAIL") \(name)")
            }
            MPIRuntime.say(comm, "selfcheck: \(w) rank(s), \(comm.localSize) on this node, \(BLAS.threads) BLAS thread(s) per rank, OpenBLAS \(BLAS.coreName)")
            try check("barrier") { try comm.barrier(); return true }
            try check("allreduce sum float32 in place (rank-dependent, 100000 elements)") {
                var a = (0..<100_000).map { Float($0 % 1000) * Float(r + 1) }
                try comm.allreduce(&a, op: .sum)
                let f = Float(w * (w + 1) / 2)
                return a.enumerated().allSatisfy { $0.element == Float($0.offset % 1000) * f }
            }
            try check("allreduce sum float64") {
                var a = [Double(r) + 0.5, -Double(r)]
                try comm.allreduce(&a, op: .sum)
                return a == [Double(w * (w - 1)) / 2 + 0.5 * Double(w), -Double(w * (w - 1) / 2)]
            }
            try check("allreduce max/min int32") {
                try comm.allreduce(Int32(r * 3), op: .max) == Int32((w - 1) * 3) && comm.allreduce(Int32(r * 3 - 7), op: .min) == -7
            }
            try check("allreduce sum/max int64 beyond 2^32") {
                let big = Int64(1) << 40
                return try comm.allreduce(big + Int64(r), op: .sum) == big * Int64(w) + Int64(w * (w - 1) / 2)
                    && comm.allreduce(big * Int64(r + 1), op: .max) == big * Int64(w)
            }
            try check("reduce sum to rank 0") {
                var a = [Int64(r + 1)]
                try comm.reduce(&a, op: .sum, root: 0)
                return r != 0 || a[0] == Int64(w * (w + 1) / 2)
            }
            try check("broadcast from rank \(w - 1)") {
                var a = r == w - 1 ? (0..<1000).map { Double($0) * 1.5 } : [Double](repeating: -1, count: 1000)
                try comm.broadcast(&a, root: w - 1)
                return a == (0..<1000).map { Double($0) * 1.5 }
            }
            try check("allgather int32") {
                try comm.allgather([Int32(r), Int32(10 * r)]) == (0..<w).flatMap { [Int32($0), Int32(10 * $0)] }
            }
            try check("allgatherv with unequal counts (rank r sends r+1 values)") {
                let got = try comm.allgatherv([Int32](repeating: Int32(r), count: r + 1))
                return got == (0..<w).flatMap { [Int32](repeating: Int32($0), count: $0 + 1) }
            }
            try check("gatherv to rank 0 with unequal counts (the others receive nothing)") {
                let got = try comm.gatherv([Int32](repeating: Int32(r), count: r + 1), root: 0)
                return r == 0 ? got == (0..<w).flatMap { [Int32](repeating: Int32($0), count: $0 + 1) } : got.isEmpty
            }
            try check("non-blocking allreduce overlapped with local sgemm") {
                var buffer = [Float](repeating: Float(r + 1), count: 1 << 20)
                var local = [Float](repeating: 0, count: 256 * 256)
                let ones = [Float](repeating: 1, count: 256 * 256)
                var tests = 0
                try buffer.withUnsafeMutableBufferPointer { buf in
                    let req = try comm.iallreduce(buf, op: .sum)
                    for _ in 0..<4 {
                        BLAS.sgemm(m: 256, n: 256, k: 256, a: ones, lda: 256, b: ones, ldb: 256, c: &local, ldc: 256)
                        if try !req.test() { tests += 1 }
                    }
                    try req.wait()
                }
                let expected = Float(w * (w + 1) / 2)
                return buffer.allSatisfy { $0 == expected } && local.allSatisfy { $0 == 256 }
            }
            try check("node-local rank and size") {
                let sizes = try comm.allreduce(Int32(comm.localRank == 0 ? comm.localSize : 0), op: .sum)
                return comm.localRank < comm.localSize && Int(sizes) == w
            }
            try check("sgemm (all transpose combinations) against a naive product") {
                var rng = RandomGenerator(seed: 5)
                let m = 37, n = 29, k = 53
                let a = (0..<(m * k)).map { _ in Float(rng.normal()) }, b = (0..<(k * n)).map { _ in Float(rng.normal()) }
                var ok = true
                for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                    var c = [Float](repeating: 0, count: m * n)
                    BLAS.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, a: a, lda: ta ? m : k, b: b, ldb: tb ? k : n, c: &c, ldc: n)
                    for i in 0..<m { for j in 0..<n {
                        var s = 0.0
                        for l in 0..<k { s += Double(ta ? a[l * m + i] : a[i * k + l]) * Double(tb ? b[j * k + l] : b[l * n + j]) }
                        if abs(s - Double(c[i * n + j])) > 1e-3 { ok = false }
                    } }
                }
                return ok
            }
            MPIRuntime.say(comm, failures == 0 ? "selfcheck: all checks passed" : "selfcheck: \(failures) check(s) failed")
            if failures > 0 { throw SelfCheckFailed(count: failures) }
        }
    }
}

struct SelfCheckFailed: Error, CustomStringConvertible {
    let count: Int
    var description: String { "selfcheck: \(count) check(s) failed" }
}
