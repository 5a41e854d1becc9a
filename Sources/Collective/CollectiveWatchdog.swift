import Foundation
import Glibc
import Synchronization

/// Ends a rank that has waited in one MPI call for longer than `timeout` seconds.
///
/// Waits that follow a long local phase of another rank — rank 0 writing and fsyncing a checkpoint,
/// running LAPACK alone — are known on every rank from the program's structure, so no message is
/// needed to tell "busy" from "gone": every rank runs them inside `patiently`, where the limit is
/// `patience` times longer (a lost host still ends the job, later).
///
/// MPI cannot tell a slow peer from a dead host: when a host's network link goes down, the ranks
/// talking to it block in their collective until TCP gives up, which can take many minutes. Every
/// MPI call goes through `check`, which marks when the call started; a watchdog thread checks once
/// a second and, past the timeout, prints one line and exits the process with status 1. `mpirun`
/// then sees a rank die and takes the job down. Checkpoints are written whole or not at all, so
/// the last one stays valid. The watchdog never calls MPI itself (MPI_THREAD_FUNNELED).
public enum CollectiveWatchdog {
    /// Uptime in nanoseconds when the current MPI call started; 0 when none is running.
    static let since = Atomic<UInt64>(0)
    static let call = Mutex<String>("")
    nonisolated(unsafe) static var started = false
    /// How many times the timeout a wait inside `patiently` may last.
    public static let patience: UInt64 = 20
    /// Nesting depth of `patiently` on the MPI thread (read by the watchdog thread).
    static let patientDepth = Atomic<Int>(0)

    /// Runs `body`, whose MPI calls wait for another rank's long local phase, under the longer limit.
    public static func patiently<T>(_ body: () throws -> T) rethrows -> T {
        patientDepth.add(1, ordering: .relaxed)
        defer { patientDepth.subtract(1, ordering: .relaxed) }
        return try body()
    }

    /// Starts the watchdog thread (once). `rank` prefixes the line it prints.
    public static func start(timeout seconds: Double, rank: Int) {
        guard !started, seconds > 0 else { return }
        started = true
        let limit = UInt64(seconds * 1e9)
        let watcher = Thread {
            while true {
                sleep(1)
                let s = since.load(ordering: .relaxed)
                let allowed = patientDepth.load(ordering: .relaxed) > 0 ? limit * patience : limit
                if s != 0 && uptimeNanoseconds() > s + allowed {
                    let what = call.withLock { $0 }
                    let line = "deepcluster: rank \(rank): \(what) has waited \(allowed / 1_000_000_000) s for the other ranks "
                        + "(a host or its network is gone?); exiting (--collective-timeout)\n"
                    _ = line.withCString { write(2, $0, strlen($0)) }
                    _exit(1)
                }
            }
        }
        watcher.name = "collective-watchdog"
        watcher.start()
    }

    /// Runs one MPI call under the watchdog.
    @inline(__always)
    static func guarding(_ body: () -> Int32, name: () -> String) -> Int32 {
        guard started else { return body() }
        call.withLock { $0 = name() }
        since.store(uptimeNanoseconds(), ordering: .relaxed)
        defer { since.store(0, ordering: .relaxed) }
        return body()
    }

    static func uptimeNanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }
}
