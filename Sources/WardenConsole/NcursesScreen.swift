import CNcursesw
import Foundation

/// Why the console cannot start on this terminal.
public struct TerminalError: Error, CustomStringConvertible {
    public var description: String
}

/// The terminal, through ncursesw. Frames are written cell by cell into ncurses' virtual screen and
/// `doupdate` sends only what changed, so redraws do not flicker. Owns the terminal from `init`
/// until `close`; use from one thread.
public final class NcursesScreen: ConsoleTerminal {
    private var pairs: [Role: Int32] = [:]
    private var open = true
    private let mouse: Bool

    /// Takes over the terminal. Refuses `TERM=dumb`, no `TERM`, and output that is not a terminal.
    /// - Parameters:
    ///   - theme: colours per role; with `color == false` only the theme's attributes are used.
    ///   - color: false for `NO_COLOR` or a terminal without colours.
    public init(theme: Theme, color: Bool, mouse: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) throws(TerminalError) {
        let term = environment["TERM"] ?? ""
        guard !term.isEmpty, term != "dumb" else {
            throw TerminalError(description: "the console needs a terminal that can address the cursor (TERM is \(term.isEmpty ? "not set" : "dumb")); the same actions are CLI commands: warden sessions|grants|tools|audit …")
        }
        guard isatty(0) == 1, isatty(1) == 1 else {
            throw TerminalError(description: "the console needs a terminal on stdin and stdout; use the CLI (warden grants list, warden grants approve …) from scripts")
        }
        self.mouse = mouse
        // A parent may have started us with signals blocked (a mask is inherited): the console needs
        // SIGWINCH to see resizes and the usual signals to end cleanly.
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGCONT, SIGTSTP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
        setlocale(LC_ALL, "")
        guard initscr() != nil else { throw TerminalError(description: "ncurses could not initialise the terminal (TERM=\(term))") }
        cbreak()
        noecho()
        nonl()
        keypad(warden_stdscr(), true)
        curs_set(0)
        set_escdelay(25)
        nodelay(warden_stdscr(), true)
        if mouse {
            mousemask(mmask_t(warden_mouse_all()), nil)
            // Presses are reported as they come: no 1/6 s wait to fold a press and release into a
            // click, which would also let a key typed meanwhile overtake the click.
            mouseinterval(0)
        }
        if color && has_colors() {
            start_color()
            use_default_colors()
            let available = Int(warden_colors())
            for (i, role) in Role.allCases.enumerated() {
                let style = theme.style(role)
                let pair = Int32(i + 1)
                init_extended_pair(pair, Self.color(style.foreground, available), Self.color(style.background, available))
                pairs[role] = pair
            }
        }
        attributes = Dictionary(uniqueKeysWithValues: Role.allCases.map { role in
            let style = color ? theme.style(role) : (Theme.builtIn["mono"] ?? theme).style(role)
            var a: Int32 = 0
            if style.bold { a |= warden_attr_bold() }
            if style.reverse { a |= warden_attr_reverse() }
            if style.underline { a |= warden_attr_underline() }
            if style.dim { a |= warden_attr_dim() }
            if let p = pairs[role] { a |= warden_color_pair(p) }
            return (role, a)
        })
    }

    private var attributes: [Role: Int32] = [:]

    /// A theme colour as an ncurses colour number for a terminal with `available` colours; direct
    /// colour terminals (`COLORS` ≥ 2^24) get the RGB value itself.
    static func color(_ c: ThemeColor, _ available: Int) -> Int32 {
        if available >= 1 << 24, case .rgb(let r, let g, let b) = c { return Int32(r) << 16 | Int32(g) << 8 | Int32(b) }
        return Int32(c.index(available: min(available, 256)))
    }

    public var size: TerminalSize { TerminalSize(rows: Int(warden_rows()), cols: Int(warden_cols())) }

    public func present(_ frame: Frame) {
        guard open else { return }
        var bytes: [CChar] = []
        for row in 0..<frame.rows {
            var col = 0
            while col < frame.cols {
                let role = frame[row, col].role
                let start = col
                bytes.removeAll(keepingCapacity: true)
                // One run of same-role cells per addstr; the right half of a wide character has no text.
                while col < frame.cols, frame[row, col].role == role {
                    bytes.append(contentsOf: frame[row, col].text.utf8CString.dropLast())
                    col += 1
                }
                bytes.append(0)
                _ = warden_attrset(attributes[role] ?? 0)
                // The bottom-right cell makes addstr report an error after writing it (the cursor
                // cannot move past it); the cell is drawn all the same.
                _ = mvaddstr(Int32(row), Int32(start), bytes)
            }
        }
        _ = warden_attrset(0)
        wnoutrefresh(warden_stdscr())
        doupdate()
    }

    /// The next key, if one is waiting (never blocks).
    public func nextKey() -> Key? {
        var ch: wint_t = 0
        let r = wget_wch(warden_stdscr(), &ch)
        if r == ERR { return nil }
        if r == warden_key_code_yes() {
            switch Int32(ch) {
            case warden_key_up(): return .up
            case warden_key_down(): return .down
            case warden_key_left(): return .left
            case warden_key_right(): return .right
            case warden_key_ppage(): return .pageUp
            case warden_key_npage(): return .pageDown
            case warden_key_home(): return .home
            case warden_key_end(): return .end
            case warden_key_enter(): return .enter
            case warden_key_backspace(): return .backspace
            case warden_key_btab(): return .backTab
            case warden_key_resize(): return .resize
            case warden_key_mouse():
                var y: Int32 = 0, x: Int32 = 0
                var state: UInt = 0
                guard warden_get_mouse(&y, &x, &state) == 1 else { return nil }
                if state & warden_button4_pressed() != 0 { return .mouse(row: Int(y), col: Int(x), wheel: -1) }
                if warden_button5_pressed() != 0, state & warden_button5_pressed() != 0 { return .mouse(row: Int(y), col: Int(x), wheel: 1) }
                if state & warden_button1_pressed() != 0 { return .mouse(row: Int(y), col: Int(x), wheel: 0) }
                return nil
            default: return nil
            }
        }
        switch ch {
        case 10, 13: return .enter
        case 27: return .escape
        case 8, 127: return .backspace
        case 9: return .tab
        default:
            guard let scalar = Unicode.Scalar(UInt32(ch)), ch >= 32 else { return nil }
            return .char(Character(scalar))
        }
    }

    /// The terminal bell (or the terminal's visible bell, if that is how it is set up).
    public func bell() { _ = beep() }

    /// OSC 52: the terminal puts it on the clipboard where it allows (tmux passes it on with
    /// set-clipboard). Written straight to the terminal, past ncurses, which would show it.
    public func copy(_ text: String) {
        let payload = Data(text.utf8).base64EncodedString()
        let sequence = Array("\u{1B}]52;c;\(payload)\u{07}".utf8)
        _ = sequence.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }

    public var inputDescriptor: Int32? { STDIN_FILENO }

    /// Gives the terminal back.
    public func close() {
        guard open else { return }
        open = false
        endwin()
    }

    deinit { close() }
}
