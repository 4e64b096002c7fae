import Foundation

/// Writes a trace file as tokens arrive: one `TokenTrace` per line (`TraceFile`'s JSON
/// Lines encoding), flushed per line so a reader (or a crash) sees every finished token.
public final class TraceWriter {
    public let path: String
    private let handle: FileHandle
    private let encoder = TraceFile.makeEncoder()

    /// Creates (or truncates) `path`.
    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw EngineError("\(path): cannot create the trace file")
        }
        self.path = path
        self.handle = handle
    }

    public func write(_ trace: TokenTrace) throws {
        var line = try TraceFile.encodeLine(trace, encoder: encoder)
        line.append(0x0A)
        do {
            try handle.write(contentsOf: line)
        } catch {
            throw EngineError("\(path): cannot write the trace file (\(error.localizedDescription))")
        }
    }

    deinit { try? handle.close() }
}
