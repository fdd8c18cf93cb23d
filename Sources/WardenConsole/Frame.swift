import WardenCore

/// What a cell is for; a theme gives each role its colours. Views name roles, never colours.
public enum Role: String, Sendable, CaseIterable {
    case normal, dim, header, headerAccent, selection, border, title, footer, footerKey
    case critical, high, medium, low, info
    case pending, evidence, escaped, added, removed, success, warning, input
}

/// One terminal cell: the text it shows (a scalar and any combining marks; empty for the right
/// half of a wide character) and its role.
public struct Cell: Sendable, Equatable {
    public var text: String
    public var role: Role
    public static let blank = Cell(text: " ", role: .normal)
}

/// A screenful of cells. Views draw into a frame; a `Screen` shows it. Every string drawn goes
/// through `SafeText` first, so nothing untrusted can reach a terminal raw, and is clipped to the
/// space it was given (wide characters take two cells; text that does not fit ends in `…`).
public struct Frame: Sendable {
    public let rows: Int
    public let cols: Int
    public private(set) var cells: [Cell]

    public init(rows: Int, cols: Int) {
        self.rows = max(0, rows)
        self.cols = max(0, cols)
        cells = Array(repeating: .blank, count: self.rows * self.cols)
    }

    public subscript(row: Int, col: Int) -> Cell {
        get { cells[row * cols + col] }
        set { cells[row * cols + col] = newValue }
    }

    /// Copies rows of another frame here, from column `col` (a pane drawn on its own).
    public mutating func blit(_ other: Frame, rows range: Range<Int>, col: Int) {
        for r in range where r >= 0 && r < rows && r < other.rows {
            for c in 0..<other.cols where col + c < cols { self[r, col + c] = other[r, c] }
        }
    }

    /// Fills `width` cells of a row with blanks of `role` (a bar, a selected line).
    public mutating func fill(row: Int, col: Int = 0, width: Int? = nil, role: Role) {
        guard row >= 0, row < rows else { return }
        let end = min(cols, col + (width ?? cols - col))
        var c = max(0, col)
        while c < end {
            self[row, c] = Cell(text: " ", role: role)
            c += 1
        }
    }

    /// Draws `text` (escaped first) at a position, in at most `width` cells; returns the column after
    /// the last cell written.
    @discardableResult
    public mutating func put(_ text: String, row: Int, col: Int, width: Int? = nil, role: Role = .normal) -> Int {
        put(segments: [(text, role)], row: row, col: col, width: width)
    }

    /// Draws runs of text with their own roles, escaped and clipped together. Escapes
    /// (`␛`, `<U+202E>`) produced from untrusted text are drawn in the `escaped` role so they stand out.
    @discardableResult
    public mutating func put(segments: [(String, Role)], row: Int, col: Int, width: Int? = nil) -> Int {
        guard row >= 0, row < rows, col < cols else { return col }
        let limit = min(cols, col + (width ?? cols - col))
        var c = max(0, col)
        var lastCell = -1
        for (text, role) in segments {
            for (scalar, escaped) in Self.visible(text) {
                let w = CellWidth.of(scalar)
                let cellRole = escaped ? (role == .evidence ? .evidence : .escaped) : role
                if w == 0 {
                    // A combining mark joins the cell before it (one at most; more are shown escaped).
                    if lastCell >= 0, cells[lastCell].text.unicodeScalars.count < 2 {
                        cells[lastCell].text.unicodeScalars.append(scalar)
                        continue
                    }
                    for e in "<U+\(String(scalar.value, radix: 16, uppercase: true))>".unicodeScalars {
                        guard c < limit else { return ellipsis(row: row, at: limit, from: col) }
                        self[row, c] = Cell(text: String(e), role: .escaped)
                        c += 1
                    }
                    lastCell = -1
                    continue
                }
                guard c + w <= limit else { return ellipsis(row: row, at: limit, from: col) }
                self[row, c] = Cell(text: String(scalar), role: cellRole)
                lastCell = row * cols + c
                if w == 2 { self[row, c + 1] = Cell(text: "", role: cellRole) }
                c += w
            }
        }
        return c
    }

    /// Marks the text as cut: the last cell becomes `…` (a wide character's left half is cleared).
    private mutating func ellipsis(row: Int, at limit: Int, from start: Int) -> Int {
        guard limit > start else { return limit }
        let last = limit - 1
        if self[row, last].text.isEmpty, last > start { self[row, last - 1] = Cell(text: " ", role: self[row, last - 1].role) }
        self[row, last] = Cell(text: "…", role: self[row, last].role == .escaped ? .normal : self[row, last].role)
        return limit
    }

    /// The scalars a text shows as, each flagged when it comes from an escape. Newlines and tabs
    /// become `␊` and `␉` like other controls: one frame line is one line of text.
    static func visible(_ text: String) -> [(Unicode.Scalar, Bool)] {
        if SafeText.isClean(text) { return text.unicodeScalars.map { ($0, false) } }
        var out: [(Unicode.Scalar, Bool)] = []
        for s in text.unicodeScalars {
            let escaped = SafeText.escape(String(s))
            if escaped.unicodeScalars.count == 1 && escaped.unicodeScalars.first == s {
                out.append((s, false))
            } else {
                for e in escaped.unicodeScalars { out.append((e, true)) }
            }
        }
        return out
    }

    /// The frame's text, one line per row, trailing blanks trimmed (what snapshots compare).
    public var text: String {
        (0..<rows).map { r in
            var line = ""
            for c in 0..<cols { line += self[r, c].text }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// One letter per cell naming its role (`.` for normal), for snapshot attribute maps.
    public var roleMap: String {
        (0..<rows).map { r in
            var line = ""
            for c in 0..<cols { line.append(self[r, c].role.mapLetter) }
            while line.hasSuffix(".") { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }
}

extension Role {
    /// A single letter for attribute maps in snapshots.
    var mapLetter: Character {
        switch self {
        case .normal: "."
        case .dim: "d"
        case .header: "H"
        case .headerAccent: "A"
        case .selection: "S"
        case .border: "b"
        case .title: "T"
        case .footer: "f"
        case .footerKey: "k"
        case .critical: "C"
        case .high: "h"
        case .medium: "m"
        case .low: "l"
        case .info: "i"
        case .pending: "P"
        case .evidence: "E"
        case .escaped: "e"
        case .added: "+"
        case .removed: "-"
        case .success: "s"
        case .warning: "w"
        case .input: "I"
        }
    }
}
