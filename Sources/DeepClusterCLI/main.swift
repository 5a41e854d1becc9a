import ArgumentParser
import DeepCluster
import Foundation

// Under mpirun every rank parses the same arguments: a bad flag would print ArgumentParser's error,
// usage and help hint once per rank. A user error is one line, printed by rank 0 only, exit 2; help
// and --version print in full (on rank 0). Every usage error exits 2, as a refused --precision does.
let rank = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"].flatMap(Int.init)
    ?? ProcessInfo.processInfo.environment["PMIX_RANK"].flatMap(Int.init) ?? 0
do {
    var command = try DeepClusterCommand.parseAsRoot()
    try command.run()
} catch {
    let code = DeepClusterCommand.exitCode(for: error)
    if code == .success {
        if rank == 0 { DeepClusterCommand.exit(withError: error) }
        exit(0)
    }
    if rank == 0 {
        let message = DeepClusterCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
        Console.error("deepcluster: \(message)\n")
    } else {
        // mpirun ends the job at the first non-zero exit: leave rank 0 the time to print its line.
        usleep(2_000_000)
    }
    exit(2)
}
