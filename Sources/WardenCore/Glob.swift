/// A shell-style glob over names (`*` any run, `?` one character), as used by policy rules.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let pattern: String
    private let chars: [Character]

    public init(_ pattern: String) {
        self.pattern = pattern
        chars = Array(pattern)
    }

    public var description: String { pattern }

    /// Whether the whole of `name` matches. Linear in practice: one backtrack point (the last `*`).
    public func matches(_ name: String) -> Bool {
        let s = Array(name)
        var p = 0, i = 0
        var star = -1, mark = 0
        while i < s.count {
            if p < chars.count, chars[p] == "?" || chars[p] == s[i] {
                p += 1; i += 1
            } else if p < chars.count, chars[p] == "*" {
                star = p; mark = i; p += 1
            } else if star >= 0 {
                p = star + 1; mark += 1; i = mark
            } else {
                return false
            }
        }
        while p < chars.count, chars[p] == "*" { p += 1 }
        return p == chars.count
    }
}
