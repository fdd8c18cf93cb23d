import Synchronization

/// A terminal size in cells.
public struct TerminalSize: Sendable, Equatable {
    public var rows: Int
    public var cols: Int
    public init(rows: Int, cols: Int) {
        self.rows = rows
        self.cols = cols
    }
}

/// Where frames are shown: the terminal (`NcursesScreen`) or memory (`MemoryScreen`, for tests and
/// the benchmark). View code draws into a `Frame` and never sees which.
public protocol Screen: AnyObject {
    var size: TerminalSize { get }
    /// Shows a frame; only cells that changed reach the terminal.
    func present(_ frame: Frame)
}

/// What `ConsoleApp` runs on: a screen with a keyboard. The real one is `NcursesScreen`; tests drive
/// `MemoryScreen`, typing keys into it and reading the frames back.
public protocol ConsoleTerminal: Screen {
    /// The next key, if one is waiting (never blocks).
    func nextKey() -> Key?
    /// The bell (a notice the operator should hear).
    func bell()
    /// Puts text on the clipboard (OSC 52 on a terminal). The text is Warden's own or escaped.
    func copy(_ text: String)
    /// A descriptor that becomes readable when a key waits (the loop `poll`s it); nil when keys
    /// arrive some other way.
    var inputDescriptor: Int32? { get }
    /// Gives the terminal back.
    func close()
}

/// An in-memory terminal: keeps the last frame presented, takes keys typed into it, and counts
/// bells and copies (tests and the benchmark).
public final class MemoryScreen: ConsoleTerminal, Sendable {
    struct State {
        var size: TerminalSize
        var frame: Frame?
        var keys: [Key] = []
        var bells = 0
        var copied: [String] = []
    }
    private let state: Mutex<State>

    public init(rows: Int, cols: Int) { state = Mutex(State(size: TerminalSize(rows: rows, cols: cols))) }

    public var size: TerminalSize { state.withLock { $0.size } }
    /// Changes the size; the console sees it as a terminal resize.
    public func resize(rows: Int, cols: Int) {
        state.withLock { $0.size = TerminalSize(rows: rows, cols: cols); $0.keys.append(.resize) }
    }
    public func present(_ frame: Frame) { state.withLock { $0.frame = frame } }
    public var frame: Frame? { state.withLock { $0.frame } }

    /// Queues keys as if typed; a string types its characters.
    public func type(_ keys: Key...) { state.withLock { $0.keys += keys } }
    public func type(_ text: String) { state.withLock { $0.keys += text.map { .char($0) } } }
    public func nextKey() -> Key? { state.withLock { $0.keys.isEmpty ? nil : $0.keys.removeFirst() } }
    /// Keys typed and not read yet.
    public var pendingKeys: Int { state.withLock { $0.keys.count } }
    public func bell() { state.withLock { $0.bells += 1 } }
    public var bells: Int { state.withLock { $0.bells } }
    public func copy(_ text: String) { state.withLock { $0.copied.append(text) } }
    public var copied: [String] { state.withLock { $0.copied } }
    public var inputDescriptor: Int32? { nil }
    public func close() {}
}
