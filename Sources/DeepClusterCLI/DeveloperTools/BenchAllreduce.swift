import ArgumentParser
import Collective
import Tensor

/// Allreduce time and bytes/s per buffer size: a plain MPI_Allreduce beside the trainer's way
/// (the same buffer in buckets of --bucket-bytes, all started non-blocking, then waited for).
struct BenchAllreduce: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "allreduce", abstract: "Allreduce seconds and bytes/s, 4 KB to 64 MB, plain and bucketed.")
    @OptionGroup var common: CommonBenchOptions
    @Option(parsing: .upToNextOption, help: "Buffer sizes in bytes (default: 4096 1048576 16777216 67108864).")
    var sizes: [Int] = [4096, 1 << 20, 16 << 20, 64 << 20]
    @Option(name: .customLong("bucket-bytes"), help: "Bucket size for the bucketed variant (default: 1048576).") var bucketBytes = 1 << 20
    @Option(help: "Repetitions per size; medians are reported (default: 20).") var reps = 20

    func run() throws {
        common.runtime.run { comm in
            for size in sizes {
                let n = max(1, size / 4)
                var buffer = [Float](repeating: 1, count: n)
                let reps = size >= (16 << 20) ? max(3, self.reps / 4) : self.reps
                var plain: [Double] = [], bucketed: [Double] = []
                try buffer.withUnsafeMutableBufferPointer { buf in
                    try comm.allreduce(buf, op: .sum)
                    for _ in 0..<reps {
                        try comm.barrier()
                        let t0 = Timing.now()
                        try comm.allreduce(buf, op: .sum)
                        plain.append(try comm.allreduce(Timing.now() - t0, op: .max))
                        for i in 0..<n { buf[i] = 1 }
                    }
                    let per = max(1, bucketBytes / 4)
                    for _ in 0..<reps {
                        try comm.barrier()
                        let t0 = Timing.now()
                        var reqs: [Request] = []
                        var start = 0
                        while start < n {
                            let end = min(n, start + per)
                            reqs.append(try comm.iallreduce(UnsafeMutableBufferPointer(rebasing: buf[start..<end]), op: .sum))
                            start = end
                        }
                        for q in reqs { try q.wait() }
                        bucketed.append(try comm.allreduce(Timing.now() - t0, op: .max))
                        for i in 0..<n { buf[i] = 1 }
                    }
                }
                var r = BenchReport()
                r.add("bench", "allreduce"); r.add("size_bytes", n * 4); r.add("ranks", comm.size)
                r.add("seconds", plain.median); r.add("bytes_per_s", Double(n * 4) / plain.median)
                r.add("bucketed_seconds", bucketed.median); r.add("bucketed_bytes_per_s", Double(n * 4) / bucketed.median)
                r.add("bucket_bytes", bucketBytes); r.add("median_of", reps)
                r.emit(comm, json: common.json)
            }
        }
    }
}
