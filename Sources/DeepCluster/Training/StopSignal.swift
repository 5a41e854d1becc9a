#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// SIGTERM, SIGINT and SIGUSR1 — what schedulers send before a time limit. In `train` the first one
/// asks the run to stop at the next safe point on every rank (the end of a step, a phase boundary of
/// the epoch, or a batch or iteration inside extraction, PCA, k-means, the memory bank's fill and the
/// resume's reads — see `StopPoll`), write a checkpoint where one is due and exit 0: the handler only
/// sets a flag, and the flag travels in an allreduce, so every rank stops at the same point.
///
/// The rule for a later signal: it ends the process at once (exit 128 + signal), except a SIGTERM that
/// follows a SIGUSR1. That pair is a scheduler's time limit: SLURM's `--signal=USR1@600` asks for the
/// stop ten minutes ahead, and the limit's SIGTERM then comes for the same stop — it must not turn a
/// checkpoint in progress into a failure (exit 143, not requeued). A second SIGINT (Ctrl-C twice), a
/// second SIGTERM or a second SIGUSR1 is a user who wants the process gone now. Commands with nothing
/// to save (eval, extract, bench, selfcheck) end at the first signal.
public enum StopSignal {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0
    /// The first signal received (0 before any).
    nonisolated(unsafe) private static var first: sig_atomic_t = 0
    /// A file that a signal ending the process removes first (see `removingOnSignal`).
    nonisolated(unsafe) private static var doomed: UnsafeMutablePointer<CChar>?
    public static var requested: Bool { flag != 0 }

    /// `deferred`: the first signal only sets the flag (train); otherwise it ends the process.
    public static func install(deferred: Bool) {
        var set = sigset_t()
        sigemptyset(&set)
        for sig in [SIGTERM, SIGINT, SIGUSR1] {
            if deferred {
                signal(sig) { s in
                    if StopSignal.flag != 0 {
                        if s == SIGTERM && StopSignal.first == SIGUSR1 { return }   // the time limit of the stop USR1 asked for
                        if let p = StopSignal.doomed { unlink(p) }
                        _exit(128 + s)
                    }
                    StopSignal.first = s
                    StopSignal.flag = 1
                }
            } else {
                signal(sig) { s in
                    if let p = StopSignal.doomed { unlink(p) }
                    _exit(128 + s)
                }
            }
            sigaddset(&set, sig)
        }
        // A blocked signal mask survives exec: a rank started from a process that blocks these
        // (some launchers and test runners do) would never see them. Unblock them explicitly.
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// For tests and benchmarks.
    public static func request() { flag = 1 }

    /// Runs `body` while `path` (an output being written under a temporary name, as `features.npy.partial`)
    /// is removed by a signal that ends the process: an interrupted `extract` leaves no half-written
    /// file of its size behind. (unlink is async-signal-safe; a crash or SIGKILL still can leave one,
    /// which the next write of the same output replaces.)
    public static func removingOnSignal<T>(_ path: String, _ body: () throws -> T) rethrows -> T {
        let c = strdup(path)
        doomed = c
        defer { doomed = nil; free(c) }
        return try body()
    }

    /// The test hook `DEEPCLUSTER_TEST_RAISE=SIGNALS:PHASE:COUNT:EPOCH:RANK` (SIGNALS one or more of
    /// usr1, term, int joined by "+"; EPOCH a number or "*"): the rank raises those signals on itself at
    /// the COUNT-th safe point of PHASE ("step", "extraction", "pca", "k-means", "bank fill", "resume"),
    /// so that a test knows exactly where the signal arrived instead of guessing from the clock.
    /// The signals go through the installed handlers like any other.
    public static func testHook(phase: String, count: Int, epoch: Int?, rank: Int) {
        guard let hook = testRaise, hook.phase == phase, hook.count == count, hook.rank == rank,
              hook.epoch == nil || hook.epoch == epoch else { return }
        for s in hook.signals { raise(s) }
    }

    private static let testRaise: (signals: [Int32], phase: String, count: Int, epoch: Int?, rank: Int)? = {
        guard let spec = ProcessInfo.processInfo.environment["DEEPCLUSTER_TEST_RAISE"] else { return nil }
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let names: [String: Int32] = ["usr1": SIGUSR1, "term": SIGTERM, "int": SIGINT]
        guard parts.count == 5, let count = Int(parts[2]), let rank = Int(parts[4]) else { return nil }
        let signals = parts[0].split(separator: "+").compactMap { names[String($0)] }
        return (signals, parts[1], count, parts[3] == "*" ? nil : Int(parts[3]), rank)
    }()
}
