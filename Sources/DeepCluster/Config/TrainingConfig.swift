/// A run's configuration: the recipe (what it computes) and the run options (how and where). It is
/// written beside the checkpoints as config.json, one flat object holding both (`--config` reads it
/// back); state.json holds the recipe alone.
public struct TrainingConfig: Codable, Sendable {
    public var recipe = Recipe()
    public var options = RunOptions()

    public init() {}

    public init(from decoder: Decoder) throws {
        recipe = try Recipe(from: decoder)
        options = try RunOptions(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        try recipe.encode(to: encoder)
        try options.encode(to: encoder)
    }

    public func validate() throws {
        try recipe.validate()
        try options.validate()
    }
}
