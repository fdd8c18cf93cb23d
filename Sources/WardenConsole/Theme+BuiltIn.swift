// Generated from themes/*.yaml (ThemeTests checks they match): the built-in themes travel inside the
// binary, so `warden console --theme NAME` works wherever the binary is.
extension Theme {
    /// The YAML of each built-in theme, by name.
    public static let builtInSources: [String: String] = [
        "default": #"""
# Warden console: default theme. Roles, not widgets: every view uses these.
name: default
roles:
  normal: {}
  dim: {fg: bright-black}
  header: {fg: white, bg: blue, bold: true}
  headerAccent: {fg: bright-yellow, bg: blue, bold: true}
  selection: {fg: black, bg: cyan, reverse: false, bold: true}
  border: {fg: blue}
  title: {fg: cyan, bold: true}
  footer: {fg: white, bg: bright-black}
  footerKey: {fg: bright-yellow, bg: bright-black, bold: true}
  critical: {fg: bright-white, bg: red, bold: true}
  high: {fg: bright-red, bold: true}
  medium: {fg: yellow}
  low: {fg: cyan}
  info: {fg: bright-black}
  pending: {fg: black, bg: bright-yellow, bold: true}
  evidence: {fg: black, bg: bright-magenta, bold: true}
  escaped: {fg: magenta, underline: true}
  added: {fg: green, bold: true}
  removed: {fg: red, underline: true}
  success: {fg: green}
  warning: {fg: yellow, bold: true}
  input: {fg: bright-white, bg: bright-black}

"""#,
        "high-contrast": #"""
# Warden console: high contrast (bright on black, strong attributes).
name: high-contrast
roles:
  normal: {fg: bright-white, bg: black}
  dim: {fg: white, bg: black}
  header: {fg: black, bg: bright-white, bold: true}
  headerAccent: {fg: black, bg: bright-yellow, bold: true}
  selection: {fg: black, bg: bright-yellow, bold: true}
  border: {fg: bright-white, bg: black}
  title: {fg: bright-yellow, bg: black, bold: true, underline: true}
  footer: {fg: black, bg: bright-white}
  footerKey: {fg: black, bg: bright-white, bold: true, underline: true}
  critical: {fg: bright-white, bg: red, bold: true}
  high: {fg: bright-red, bg: black, bold: true}
  medium: {fg: bright-yellow, bg: black, bold: true}
  low: {fg: bright-cyan, bg: black}
  info: {fg: white, bg: black}
  pending: {fg: black, bg: bright-yellow, bold: true}
  evidence: {fg: black, bg: bright-cyan, bold: true}
  escaped: {fg: bright-magenta, bg: black, bold: true, underline: true}
  added: {fg: bright-green, bg: black, bold: true}
  removed: {fg: bright-red, bg: black, bold: true, underline: true}
  success: {fg: bright-green, bg: black, bold: true}
  warning: {fg: bright-yellow, bg: black, bold: true}
  input: {fg: black, bg: bright-white}

"""#,
        "mono": #"""
# Warden console: no colour at all, attributes only (also what NO_COLOR gives).
name: mono
roles:
  normal: {}
  dim: {dim: true}
  header: {reverse: true, bold: true}
  headerAccent: {reverse: true, bold: true, underline: true}
  selection: {reverse: true}
  border: {}
  title: {bold: true, underline: true}
  footer: {reverse: true}
  footerKey: {reverse: true, bold: true}
  critical: {reverse: true, bold: true}
  high: {bold: true}
  medium: {underline: true}
  low: {}
  info: {dim: true}
  pending: {reverse: true, bold: true}
  evidence: {reverse: true, underline: true}
  escaped: {underline: true}
  added: {bold: true}
  removed: {underline: true}
  success: {}
  warning: {bold: true}
  input: {reverse: true}

"""#,
        "solarized-dark": #"""
# Warden console: Solarized dark (Ethan Schoonover's palette, as #rrggbb; nearest colour on 256-colour terminals).
name: solarized-dark
roles:
  normal: {fg: "#839496", bg: "#002b36"}
  dim: {fg: "#586e75", bg: "#002b36"}
  header: {fg: "#fdf6e3", bg: "#073642", bold: true}
  headerAccent: {fg: "#b58900", bg: "#073642", bold: true}
  selection: {fg: "#002b36", bg: "#268bd2", bold: true}
  border: {fg: "#586e75", bg: "#002b36"}
  title: {fg: "#2aa198", bg: "#002b36", bold: true}
  footer: {fg: "#93a1a1", bg: "#073642"}
  footerKey: {fg: "#b58900", bg: "#073642", bold: true}
  critical: {fg: "#fdf6e3", bg: "#dc322f", bold: true}
  high: {fg: "#dc322f", bg: "#002b36", bold: true}
  medium: {fg: "#b58900", bg: "#002b36"}
  low: {fg: "#2aa198", bg: "#002b36"}
  info: {fg: "#586e75", bg: "#002b36"}
  pending: {fg: "#002b36", bg: "#b58900", bold: true}
  evidence: {fg: "#002b36", bg: "#d33682", bold: true}
  escaped: {fg: "#d33682", bg: "#002b36", underline: true}
  added: {fg: "#859900", bg: "#002b36", bold: true}
  removed: {fg: "#dc322f", bg: "#002b36", underline: true}
  success: {fg: "#859900", bg: "#002b36"}
  warning: {fg: "#cb4b16", bg: "#002b36", bold: true}
  input: {fg: "#fdf6e3", bg: "#073642"}

"""#,
    ]
}
