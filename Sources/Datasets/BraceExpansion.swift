/// The shell's brace expansion as WebDataset writes shard lists: `shard-{000000..000099}.tar` (a
/// numeric range, zero-padded to the width of its first bound) and `{train,extra}-{0..3}.tar` (lists);
/// several groups expand left to right.
public enum BraceExpansion {
    public static func expand(_ pattern: String) throws -> [String] {
        guard let open = pattern.firstIndex(of: "{") else { return [pattern] }
        guard let close = pattern[open...].firstIndex(of: "}") else {
            throw DatasetError.unsupported(path: pattern, reason: "an unclosed '{' in the shard pattern")
        }
        let head = String(pattern[..<open]), body = String(pattern[pattern.index(after: open)..<close])
        let rest = try expand(String(pattern[pattern.index(after: close)...]))
        var choices: [String]
        if let range = body.range(of: ".."), let low = Int(body[..<range.lowerBound]), let high = Int(body[range.upperBound...]) {
            let width = body[..<range.lowerBound].count
            guard low <= high, high - low < 10_000_000 else {
                throw DatasetError.unsupported(path: pattern, reason: "the range {\(body)} must go up, by at most 10,000,000")
            }
            choices = (low...high).map { n in
                let digits = String(n)
                return String(repeating: "0", count: max(0, width - digits.count)) + digits
            }
        } else if body.contains(",") {
            choices = body.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        } else {
            throw DatasetError.unsupported(path: pattern, reason: "{\(body)} is neither a range {A..B} nor a list {a,b}")
        }
        return choices.flatMap { c in rest.map { head + c + $0 } }
    }
}
