import Collective
import Foundation
import Testing

/// A test process is an MPI world of one (Open MPI singleton init): every collective must work and
/// return the closed-form answers for size 1. Multi-rank behaviour is tested under mpirun (LaunchTests).
@Suite(.serialized) struct SingletonWorldTests {
    @Test func worldOfOne() throws {
        let w = try Communicator.world()
        #expect(w.size == 1 && w.rank == 0 && w.isRoot && w.localSize == 1)
        var a: [Float] = [1, 2, 3]
        try w.allreduce(&a, op: .sum)
        #expect(a == [1, 2, 3])
        #expect(try w.allreduce(Int64(5), op: .max) == 5)
        #expect(try w.allgatherv([Int32(4), 5]) == [4, 5])
        var b: [Double] = [7]
        try w.broadcast(&b, root: 0)
        #expect(b == [7])
        try a.withUnsafeMutableBufferPointer { p in
            let r = try w.iallreduce(p, op: .sum)
            try r.wait()
            #expect(r.isComplete)
        }
        try w.barrier()
    }

    /// A world of one starts no orted: forking one from a process whose OpenBLAS threads are running
    /// can hang in OpenBLAS's fork handler (a CI run stopped there for an hour).
    @Test func worldOfOneForksNoDaemon() throws {
        _ = try Communicator.world()
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        let children = tasks.flatMap { task in
            ((try? String(contentsOfFile: "/proc/self/task/\(task)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").map(String.init)
        }
        let names = children.compactMap { pid in
            (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(!names.contains("orted"), "children: \(names)")
    }

    @Test func mpiErrorsCarryMPIsMessage() throws {
        let w = try Communicator.world()
        var a: [Float] = [1]
        // Rank 5 does not exist in a world of one: MPI reports an invalid root.
        do { try w.broadcast(&a, root: 5); Issue.record("no error") } catch let e as MPIError {
            #expect(e.call == "MPI_Bcast" && !e.message.isEmpty)
        }
    }
}
