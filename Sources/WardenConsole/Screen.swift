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

/// An in-memory screen: keeps the last frame presented.
public final class MemoryScreen: Screen, Sendable {
    private let state: Mutex<(size: TerminalSize, frame: Frame?)>

    public init(rows: Int, cols: Int) { state = Mutex((TerminalSize(rows: rows, cols: cols), nil)) }

    public var size: TerminalSize { state.withLock { $0.size } }
    public func resize(rows: Int, cols: Int) { state.withLock { $0.size = TerminalSize(rows: rows, cols: cols) } }
    public func present(_ frame: Frame) { state.withLock { $0.frame = frame } }
    public var frame: Frame? { state.withLock { $0.frame } }
}
