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

/// The refusal behind the typed `apply(to:)` of the option groups: each applied line counts itself,
/// and the count must equal the options given (found by reflection, which only counts them). An
/// option declared without its line in `apply` ends the command at start, before anything runs,
/// instead of being ignored without a word.
enum GivenOptions {
    static func check(_ group: Any, applied: Int) throws {
        let given = Mirror(reflecting: group).children.filter { child in
            (child.value as? GivenOption)?.given != nil
        }
        guard given.count != applied else { return }
        let names = given.compactMap { $0.label.map { ConfigurationFlags.flag(for: String($0.dropFirst())) } }
        throw ValidationError("internal: \(given.count - applied) of the options given (\(names.joined(separator: ", "))) reach no field of the configuration (a line missing in \(type(of: group)).apply)")
    }
}

/// An option's value when it was given on the command line (a flag: when it was set).
protocol GivenOption { var given: Any? { get } }

extension Flag: GivenOption where Value == Bool {
    var given: Any? { wrappedValue ? true : nil }
}

extension Option: GivenOption {
    var given: Any? {
        let mirror = Mirror(reflecting: wrappedValue as Any)
        guard mirror.displayStyle == .optional else { return wrappedValue }
        return mirror.children.first?.value
    }
}
