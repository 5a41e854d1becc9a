/// Failures of a training run that end it with one line on every rank.
public enum TrainingError: Error, CustomStringConvertible {
    case nonFinite(step: Int, epoch: Int, ranks: String)
    case invalidConfiguration(String)
    /// A field of the recipe or the run options (its key in config.json) and what is wrong with it;
    /// the command line names the flag that sets it.
    case invalidValue(field: String, String)
    /// `--resume` with a recipe that differs from the checkpoint's: (field, saved, given) for each.
    case recipeChanged(path: String, changes: [RecipeChange])
    case divergedParameters(step: Int)

    public var description: String {
        switch self {
        case let .nonFinite(step, epoch, ranks):
            return "non-finite loss or gradient at epoch \(epoch), step \(step) (on rank \(ranks)); stopped before applying the update"
        case let .invalidConfiguration(s): return s
        case let .invalidValue(field, message): return "\(field) \(message)"
        case let .recipeChanged(path, changes):
            return "resuming \(path) with a different recipe (\(changes.map(\.description).joined(separator: ", ")))"
        case let .divergedParameters(step): return "parameters differ between ranks after step \(step)"
        }
    }
}
