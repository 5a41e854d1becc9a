import Foundation

/// A recipe field in which a resumed run differs from its checkpoint.
public struct RecipeChange: Sendable, CustomStringConvertible {
    public let field: String
    public let saved: String
    public let given: String
    public var description: String { "\(field) \(saved) → \(given)" }
}

/// `--resume` refuses a recipe that differs from the checkpoint's (another seed, learning rate or
/// data of the same size would otherwise resume silently and compute something else half way).
extension Recipe {
    /// Every field whose value differs from `saved`, compared as written to state.json. `epochs`
    /// counts only under the cosine schedule, whose learning rate at every step depends on it; a
    /// constant schedule may be extended freely.
    public func differences(from saved: Recipe) -> [RecipeChange] {
        let old = saved.fields, new = fields
        return Set(new.keys).union(old.keys).sorted().compactMap { key in
            let was = old[key] ?? "default", now = new[key] ?? "default"
            if key == "epochs" && lrSchedule != .cosine && saved.lrSchedule != .cosine { return nil }
            return was == now ? nil : RecipeChange(field: key, saved: was, given: now)
        }
    }

    /// Each field's value as JSON text (absent: the field's default, nil).
    var fields: [String: String] {
        guard let data = try? JSONEncoder().encode(self),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return [:] }
        return object.mapValues { value in
            if let s = value as? String { return s }
            return (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
        }
    }
}
