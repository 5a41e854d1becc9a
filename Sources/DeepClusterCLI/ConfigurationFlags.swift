import ArgumentParser
import DeepCluster
import Foundation

/// How the command line and the configuration name each other. Every option of `train` that sets
/// a field of the configuration (`Recipe`, `RunOptions`) is declared once, as a property of the same
/// name as the field — or, for the few whose flags are shorter, the name in `shortNames` — and is
/// applied by that name (`apply`); the library's errors carry the field, which `describe` turns
/// back into the flag.
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

    /// Every field a configuration has, by name.
    static let fields = Set(Mirror(reflecting: Recipe()).children.compactMap(\.label)
                            + Mirror(reflecting: RunOptions()).children.compactMap(\.label))

    /// Options of `train` that are the command's own, not fields of the configuration: read where the
    /// command runs (threads, kernels, the preset and config file, resume and output switches).
    /// (Option groups — `RuntimeOptions`: threads, kernels, precision, collective timeout — are the command's own too.)
    static let commandOptions: Set<String> = ["preset", "config", "resume", "resumeOverride", "quiet", "progress", "statusFile"]

    /// The options of `command` that reach neither a field of the configuration nor `commandOptions`:
    /// a new option whose name does not match its field would otherwise be ignored without a word.
    static func unrouted(_ command: Any) -> [String] {
        Mirror(reflecting: command).children.compactMap { child -> String? in
            guard let label = child.label, label.hasPrefix("_"), child.value is GivenOption else { return nil }
            let property = String(label.dropFirst())
            let field = fieldOfProperty[property] ?? property
            return fields.contains(field) || commandOptions.contains(property) ? nil : flag(for: field)
        }
    }

    /// `config` with every option of `command` that was given (an `@Option` whose value is not nil)
    /// set in the field of its name. The configuration goes through its own coding, so values are
    /// checked as config.json's are (an unknown choice fails with its field). An option that reaches
    /// no field and is not the command's own is refused before anything runs.
    static func apply(_ command: Any, to config: TrainingConfig) throws -> TrainingConfig {
        let lost = unrouted(command)
        guard lost.isEmpty else {
            throw ValidationError("internal: \(lost.joined(separator: ", ")) reach no field of the configuration (ConfigurationFlags.shortNames or commandOptions must name them)")
        }
        let encoder = JSONEncoder(), decoder = JSONDecoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var object = try JSONSerialization.jsonObject(with: encoder.encode(config)) as? [String: Any] ?? [:]
        for child in Mirror(reflecting: command).children {
            guard let label = child.label, label.hasPrefix("_"), let option = child.value as? GivenOption,
                  let value = option.given else { continue }
            let property = String(label.dropFirst())
            let field = fieldOfProperty[property] ?? property
            guard fields.contains(field) else { continue }
            object[field] = jsonValue(value)
        }
        return try decoder.decode(TrainingConfig.self, from: JSONSerialization.data(withJSONObject: object))
    }

    /// Floats go through their shortest decimal text, so 0.1 reads back as the Float 0.1; values JSON
    /// has no number for (nan, ±inf) as the coders' strings, so that validation names them.
    static func jsonValue(_ value: Any) -> Any {
        if let f = value as? Float { return f.isFinite ? Double("\(f)") ?? Double(f) : "\(f)" }
        if let d = value as? Double { return d.isFinite ? d : "\(d)" as Any }
        if let u = value as? UInt64 { return NSNumber(value: u) }
        return value
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
