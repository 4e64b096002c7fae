/// A problem found while parsing or rendering a chat template: what went wrong and, once
/// known, on which line of the template. `ChatTemplate` turns it into one `EngineError` line
/// that also names the file the template came from.
struct JinjaError: Error, Sendable {
    var line: Int?
    let message: String

    init(_ message: String, line: Int? = nil) {
        self.message = message
        self.line = line
    }

    /// The error with `line` filled in when the code that threw it did not know the line.
    func at(_ line: Int) -> JinjaError {
        var copy = self
        if copy.line == nil { copy.line = line }
        return copy
    }
}
