import ArgumentParser
import Collective
import DeepCluster
import Foundation
import Datasets

extension DataScan.Depth: ExpressibleByArgument {}

/// `--data-check` and `--skip-unreadable` for the commands that read a checkpoint's images (eval,
/// extract); `train` declares the same two as fields of its configuration.
struct DataCheckOptions: ParsableArguments {
    @Option(name: .customLong("data-check"), help: "Before the work, check every image: headers (its header and end marker), decode (decode it whole) or none; unreadable images are all named at once (default: headers).")
    var depth: DataScan.Depth = .headers
    @Flag(name: .customLong("skip-unreadable"), help: "Go on without the images the check finds unreadable (each named) instead of refusing to start.")
    var skipUnreadable = false

    /// The images to use: agreed on by every rank, scanned, and without the unreadable ones when asked.
    func prepare(_ source: any ImageSource, communicator: Communicator) throws -> (images: any ImageSource, skipped: Int) {
        try DataScan.prepare(source, depth: depth, skipUnreadable: skipUnreadable, communicator: communicator) { line in
            print(line); fflush(stdout)
        }
    }
}
