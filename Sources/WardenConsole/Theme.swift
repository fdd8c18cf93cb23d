import Foundation
import Yams

/// A colour as themes write it: a name (`red`, `bright-blue`, `default`), a 256-colour index, or
/// `#rrggbb` (shown as the nearest colour the terminal has).
public enum ThemeColor: Sendable, Equatable {
    case terminalDefault
    case indexed(Int)
    case rgb(UInt8, UInt8, UInt8)

    static let names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    init?(_ text: String) {
        let t = text.lowercased().trimmingCharacters(in: .whitespaces)
        if t == "default" { self = .terminalDefault; return }
        if let i = Self.names.firstIndex(of: t) { self = .indexed(i); return }
        if t.hasPrefix("bright-"), let i = Self.names.firstIndex(of: String(t.dropFirst(7))) { self = .indexed(i + 8); return }
        if let n = Int(t), (0...255).contains(n) { self = .indexed(n); return }
        if t.hasPrefix("#"), t.count == 7, let v = UInt32(t.dropFirst(), radix: 16) {
            self = .rgb(UInt8(v >> 16), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF))
            return
        }
        return nil
    }

    /// The nearest colour among the first `available` (8, 16 or 256); -1 for the terminal default.
    public func index(available: Int) -> Int {
        switch self {
        case .terminalDefault: return -1
        case .indexed(let i):
            if i < available { return i }
            return available >= 16 ? Self.nearest16(i) : Self.nearest16(i) % 8
        case .rgb(let r, let g, let b):
            if available >= 256 {
                // The 6x6x6 cube or the grey ramp, whichever is closer.
                func level(_ c: UInt8) -> Int { c < 48 ? 0 : c < 115 ? 1 : (Int(c) - 35) / 40 }
                let cube = 16 + 36 * level(r) + 6 * level(g) + level(b)
                let grey = (Int(r) + Int(g) + Int(b)) / 3
                if abs(Int(r) - grey) < 10 && abs(Int(g) - grey) < 10 && abs(Int(b) - grey) < 10 && grey > 8 && grey < 238 {
                    return 232 + min(23, (grey - 8) / 10)
                }
                return cube
            }
            let bright = Int(r) + Int(g) + Int(b) > 3 * 170
            let i = (r > 127 ? 1 : 0) | (g > 127 ? 2 : 0) | (b > 127 ? 4 : 0)
            return available >= 16 && bright ? i + 8 : i
        }
    }

    static func nearest16(_ i: Int) -> Int {
        guard i >= 16 else { return i }
        if i >= 232 { return i < 244 ? 8 : 7 }
        let c = i - 16
        let r = c / 36, g = (c / 6) % 6, b = c % 6
        let base = (r > 2 ? 1 : 0) | (g > 2 ? 2 : 0) | (b > 2 ? 4 : 0)
        return r + g + b > 9 ? base + 8 : base
    }
}

/// How one role looks.
public struct RoleStyle: Sendable, Equatable {
    public var foreground: ThemeColor = .terminalDefault
    public var background: ThemeColor = .terminalDefault
    public var bold = false
    public var reverse = false
    public var underline = false
    public var dim = false
}

/// A theme names a style for each role (header, selection, severity levels, pending, evidence…).
/// Without colour (`NO_COLOR`, a mono theme, an 8-colour-less terminal) roles keep their attributes,
/// so selection, pending grants and evidence stay distinguishable.
public struct Theme: Sendable {
    public var name: String
    public var styles: [Role: RoleStyle]

    public func style(_ role: Role) -> RoleStyle { styles[role] ?? styles[.normal] ?? RoleStyle() }

    /// A theme file's problem, naming the file, line and key.
    public struct LoadError: Error, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var key: String
        public var problem: String
        public var description: String { "\(file):\(line): \(key): \(problem)" }
    }

    /// Reads a theme from YAML: `name:` and `roles:` mapping each role to
    /// `{fg: COLOR, bg: COLOR, bold: true, reverse: true, underline: true, dim: true}`.
    /// Roles not named fall back to the default theme's.
    public static func parse(_ yaml: String, file: String, base: Theme? = nil) throws(LoadError) -> Theme {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else { throw LoadError(file: file, line: 1, key: "(file)", problem: "is empty") }
            root = node
        } catch let e as LoadError {
            throw e
        } catch {
            throw LoadError(file: file, line: 1, key: "(file)", problem: "is not valid YAML (\(error))")
        }
        func line(_ n: Node) -> Int { n.mark?.line ?? 1 }
        guard case .mapping(let top) = root else { throw LoadError(file: file, line: line(root), key: "(file)", problem: "must be a mapping with name and roles") }
        var theme = base ?? Theme.standard
        for (k, v) in top {
            let key = k.string ?? "?"
            switch key {
            case "name": theme.name = v.string ?? theme.name
            case "roles":
                guard case .mapping(let roles) = v else { throw LoadError(file: file, line: line(v), key: "roles", problem: "must map role names to styles") }
                for (rk, rv) in roles {
                    let roleName = rk.string ?? "?"
                    guard let role = Role(rawValue: roleName) else {
                        throw LoadError(file: file, line: line(rk), key: "roles.\(roleName)",
                                        problem: "is not a role (roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    guard case .mapping(let attrs) = rv else { throw LoadError(file: file, line: line(rv), key: "roles.\(roleName)", problem: "must be a mapping like {fg: red, bold: true}") }
                    var style = RoleStyle()
                    for (ak, av) in attrs {
                        let attr = ak.string ?? "?"
                        let path = "roles.\(roleName).\(attr)"
                        switch attr {
                        case "fg", "bg":
                            guard let text = av.string, let color = ThemeColor(text) else {
                                throw LoadError(file: file, line: line(av), key: path, problem: "is not a colour (a name like red or bright-blue, 0-255, #rrggbb, or default)")
                            }
                            if attr == "fg" { style.foreground = color } else { style.background = color }
                        case "bold", "reverse", "underline", "dim":
                            guard let b = av.bool else { throw LoadError(file: file, line: line(av), key: path, problem: "must be true or false") }
                            switch attr {
                            case "bold": style.bold = b
                            case "reverse": style.reverse = b
                            case "underline": style.underline = b
                            default: style.dim = b
                            }
                        default:
                            throw LoadError(file: file, line: line(ak), key: path, problem: "is not a style key (fg, bg, bold, reverse, underline, dim)")
                        }
                    }
                    theme.styles[role] = style
                }
            default:
                throw LoadError(file: file, line: line(k), key: key, problem: "is not a theme key (name, roles)")
            }
        }
        return theme
    }

    /// Finds a theme by name: user themes in `$XDG_CONFIG_HOME/warden/themes/NAME.yaml` (or
    /// `~/.config/…`) first, then the built-in ones. A bad file falls back to the default theme and
    /// the problem is returned for the caller to show.
    public static func load(named name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> (Theme, String?) {
        let config = environment["XDG_CONFIG_HOME"] ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config")
        let path = "\(config)/warden/themes/\(name).yaml"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            do throws(LoadError) {
                return (try parse(text, file: path), nil)
            } catch {
                return (standard, "theme \(error); using the default theme")
            }
        }
        if let source = builtInSources[name], let theme = try? parse(source, file: "themes/\(name).yaml") { return (theme, nil) }
        return (standard, "no theme named \(name) (built in: \(builtInSources.keys.sorted().joined(separator: ", ")); or put \(path)); using the default theme")
    }

    /// The built-in themes, parsed from `builtInSources` (the same text as `themes/*.yaml`).
    public static let builtIn: [String: Theme] = {
        var out: [String: Theme] = ["default": standard]
        for (name, source) in builtInSources where name != "default" {
            if let t = try? parse(source, file: "themes/\(name).yaml") { out[name] = t }
        }
        return out
    }()

    /// The default theme; other themes start from it.
    public static let standard: Theme = (try? parse(builtInSources["default"]!, file: "themes/default.yaml", base: Theme(name: "default", styles: [:])))
        ?? Theme(name: "default", styles: [:])
}
