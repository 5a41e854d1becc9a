import ArgumentParser
import DeepCluster
import Foundation

/// How the command line and the configuration name each other. Every option of `train` that sets
/// a field of the configuration is declared once, in `RecipeOptions` or `RunOptionFlags`, as a
/// property of the same name as the field — or, for the few whose flags are shorter, the name in
/// `shortNames` — and set by a typed line of their `apply`; the library's errors carry the field,
/// which `describe` turns back into the flag.
enum ConfigurationFlags {
    /// Fields whose option is spelled differently (the property's name; the flag is its kebab case).
    static let shortNames = ["learningRate": "lr", "pcaDimension": "pcaDim", "kmeansIterations": "kmeansIters",
                             "hiddenDimension": "hiddenDim", "embeddingDimension": "embeddingDim", "finalLearningRate": "finalLR",
                             "checkpointDirectory": "checkpointDir", "logDirectory": "logDir"]
    static let fieldOfProperty = Dictionary(uniqueKeysWithValues: shortNames.map { ($1, $0) })

    /// The flag that sets `field`: "learningRate" → "--lr", "batchSize" → "--batch-size".
    static func flag(for field: String) -> String { "--" + kebabCase(shortNames[field] ?? field) }

    static func kebabCase(_ name: String) -> String {
        var out = "", previous: Character = " "
        for c in name {
            if c.isUppercase && previous.isLowercase { out.append("-") }
            out.append(Character(c.lowercased()))
            previous = c
        }
        return out
    }

    /// The line a user reads for a library error: the fields it names become flags.
    static func describe(_ error: Error) -> String {
        switch error as? TrainingError {
        case let .invalidValue(field, message)?:
            return "\(flag(for: field)) \(message)"
        case let .recipeChanged(path, changes)?:
            let list = changes.map { "\(flag(for: $0.field)) \($0.saved) → \($0.given)" }.joined(separator: ", ")
            return "--resume from \(path) with flags that change its recipe (\(list)); give the saved values, or --resume-override to continue with the new ones"
        default:
            return "\(error)"
        }
    }

    /// A JSON decoding failure as a few words naming the field, not Swift's DecodingError dump.
    static func describeDecoding(_ error: Error) -> String {
        func at(_ path: [CodingKey]) -> String {
            let p = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "" : " at \(p)"
        }
        switch error as? DecodingError {
        case let .typeMismatch(type, c)?: return "expected \(type)\(at(c.codingPath))"
        case let .valueNotFound(type, c)?: return "missing \(type) value\(at(c.codingPath))"
        case let .keyNotFound(key, c)?: return "missing field \(key.stringValue)\(at(c.codingPath))"
        case let .dataCorrupted(c)?:
            let underlying = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return c.codingPath.isEmpty ? "not valid JSON\(underlying.map { ": \($0)" } ?? "")" : "\(c.debugDescription)\(at(c.codingPath))"
        default: return "\(error)"
        }
    }
}
