import ArgumentParser
import Collective
import DeepCluster
import Datasets
import Foundation
import Tensor

/// `deepcluster check-data`: the pre-scan alone. Every rank checks its shard of the images (headers
/// and end markers, or whole decodes), the ranks compare what they see, and rank 0 names every
/// unreadable file with its reason. Exit 0 when every image reads, 1 otherwise.
struct CheckDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-data",
        abstract: "Check that every image of --data can be read, and that every rank sees the same images; name each one that cannot.")
    @Option(help: "Images: an image folder, tar shards ('DIR/shard-{000000..000099}.tar' or a folder of .tar), or any format train reads (default: Fashion-MNIST train).") var data: String?
    @Option(help: "Data format: \(DatasetLoader.formats.joined(separator: ", ")) (default: auto).") var format = "auto"
    @Option(help: "Check the first N images only.") var limit: Int?
    @Flag(help: "Decode every image whole instead of reading its header and end marker.") var decode = false
    @Option(help: "Threads per rank (default: cores ÷ ranks on the node).") var threads: Int?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        MPIRuntime.run(threads: threads) { comm in
            let t0 = Timing.now()
            var set = try DatasetLoader.load(data: data, labels: nil, format: format)
            if let l = limit { set = set.limited(to: l) }
            try DataAgreement.check(set, communicator: comm)
            let problems = try DataScan.problems(set, depth: decode ? .decode : .headers, communicator: comm)
            let seconds = try comm.allreduce(Timing.now() - t0, op: .max)
            let peak = try ProcessMemory.largestPeakResidentBytes(comm)
            let unreadable = problems.filter { $0.index != nil }.count
            if comm.isRoot {
                if json {
                    let object: [String: Any] = [
                        "images": set.count, "kind": set.kind, "ranks": comm.size, "depth": decode ? "decode" : "headers",
                        "unreadable_images": unreadable, "listing_problems": problems.count - unreadable,
                        "problems": problems.map { ["location": $0.location, "reason": $0.reason, "index": $0.index ?? -1] as [String: Any] },
                        "seconds": seconds, "images_per_s": Double(set.count) / max(seconds, 1e-9), "peak_rss_bytes": peak,
                    ]
                    let d = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                    print(String(decoding: d, as: UTF8.self))
                } else {
                    for p in problems { print("unreadable: \(p.line)") }
                    print(String(format: "check-data: %d images (%@), %d unreadable, %d problem(s) of the listing; %@ checked by %d rank(s) in %.1f s (%.0f images/s)",
                                 set.count, set.kind, unreadable, problems.count - unreadable, decode ? "decoded" : "headers and ends",
                                 comm.size, seconds, Double(set.count) / max(seconds, 1e-9)))
                }
                fflush(stdout)
            }
            if !problems.isEmpty {
                Communicator.finalize()
                Foundation.exit(1)
            }
        }
    }
}
