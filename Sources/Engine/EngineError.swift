/// Every error a user can cause (bad files, bad options, bad input) is an `EngineError`
/// whose message is one line naming the file or value and the problem. The command line
/// prints it to stderr and exits non-zero; the TUI shows it in the status line.
public struct EngineError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
