extension KMeans {
    /// The run of lowest final objective among `restarts` runs (at least one), restart r being `run(r)`
    /// (its generators' stream r). The objective is reduced over ranks, so every rank keeps the same
    /// run; a tie keeps the earlier one. Only the best run so far is held.
    public static func bestOfRestarts(_ restarts: Int, _ run: (Int) throws -> Result) rethrows -> Result {
        var best = try run(0)
        for r in 1..<max(restarts, 1) {
            let next = try run(r)
            if next.objectives.last! < best.objectives.last! { best = next }
        }
        return best
    }

    /// The run of lowest final objective among runs already made (the earliest of equals).
    public static func best(of runs: [Result]) -> Result {
        runs.dropFirst().reduce(runs[0]) { $1.objectives.last! < $0.objectives.last! ? $1 : $0 }
    }
}
