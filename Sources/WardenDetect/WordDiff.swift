import WardenCore

/// A word-level diff of two texts, for showing what changed in a tool definition.
public enum WordDiff {
    public enum Op: String, Sendable { case equal, insert, delete }

    /// Runs of text tagged equal / insert / delete, compared word by word.
    /// Quadratic in words, so inputs are capped; past the cap the whole text is shown as replaced.
    public static func diff(_ old: String, _ new: String, maxWords: Int = 4000) -> [(op: Op, text: String)] {
        let a = tokens(old), b = tokens(new)
        guard a.count <= maxWords, b.count <= maxWords else { return [(.delete, old), (.insert, new)] }
        // LCS table over suffixes.
        var table = [[Int32]](repeating: [Int32](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var out: [(Op, String)] = []
        func push(_ op: Op, _ t: String) {
            if let last = out.last, last.0 == op { out[out.count - 1].1 += t } else { out.append((op, t)) }
        }
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                push(.equal, a[i]); i += 1; j += 1
            } else if i < a.count, j == b.count || table[i + 1][j] >= table[i][j + 1] {
                push(.delete, a[i]); i += 1
            } else {
                push(.insert, b[j]); j += 1
            }
        }
        return out
    }

    /// The diff of two tool definitions: their descriptions, then the rest as canonical JSON.
    public static func definitions(_ old: JSONObject, _ new: JSONObject) -> [(op: Op, text: String)] {
        var restOld = old, restNew = new
        restOld["description"] = nil
        restNew["description"] = nil
        let description = diff(old["description"]?.stringValue ?? "", new["description"]?.stringValue ?? "")
        let rest = diff(String(decoding: JSONWriter.canonicalBytes(.object(restOld)), as: UTF8.self),
                        String(decoding: JSONWriter.canonicalBytes(.object(restNew)), as: UTF8.self))
        return description + (rest.allSatisfy { $0.op == .equal } ? [] : [(.equal, "\n")] + rest)
    }

    /// A diff as JSON: `[{"op":"equal|insert|delete","text":…}]`.
    public static func json(_ ops: [(op: Op, text: String)]) -> JSONValue {
        .array(ops.map { .object(["op": .string($0.op.rawValue), "text": .string($0.text)]) })
    }

    /// Words and the whitespace between them, as separate tokens.
    static func tokens(_ s: String) -> [String] {
        var out: [String] = []
        var current = ""
        var inSpace = false
        for c in s {
            let space = c.isWhitespace
            if !current.isEmpty && space != inSpace {
                out.append(current)
                current = ""
            }
            current.append(c)
            inSpace = space
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
