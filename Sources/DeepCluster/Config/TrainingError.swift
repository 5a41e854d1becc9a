/// Failures of a training run that end it with one line on every rank.
public enum TrainingError: Error, CustomStringConvertible {
    case nonFinite(step: Int, epoch: Int, ranks: String)
    case invalidConfiguration(String)
    case divergedParameters(step: Int)

    public var description: String {
        switch self {
        case let .nonFinite(step, epoch, ranks):
            return "non-finite loss or gradient at epoch \(epoch), step \(step) (on rank \(ranks)); stopped before applying the update"
        case let .invalidConfiguration(s): return s
        case let .divergedParameters(step): return "parameters differ between ranks after step \(step)"
        }
    }
}
