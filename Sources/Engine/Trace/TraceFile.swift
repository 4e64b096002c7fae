import Foundation

/// The trace file: JSON Lines, one `TokenTrace` per line with snake_case keys
/// (`is_prompt`, `time_ms`, `router_probabilities` ...), readable with
/// `pandas.read_json(path, lines=True)`. Non-finite floats are written as the strings
/// "inf", "-inf" and "nan".
public enum TraceFile {
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// One line of the file, without the newline.
    public static func encodeLine(_ trace: TokenTrace, encoder: JSONEncoder = makeEncoder()) throws -> Data {
        try encoder.encode(trace)
    }

    public static func write(_ traces: [TokenTrace], to path: String) throws {
        let encoder = makeEncoder()
        var data = Data()
        for trace in traces {
            data.append(try encodeLine(trace, encoder: encoder))
            data.append(0x0A)
        }
        guard FileManager.default.createFile(atPath: path, contents: data) else {
            throw EngineError("\(path): cannot write trace file")
        }
    }

    /// Reads a whole trace file; errors name the file and line.
    public static func read(_ path: String) throws -> [TokenTrace] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw EngineError("\(path): no such trace file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EngineError("\(path): cannot read trace file")
        }
        let decoder = makeDecoder()
        var traces: [TokenTrace] = []
        var lineNumber = 0
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            do {
                traces.append(try decoder.decode(TokenTrace.self, from: Data(line)))
            } catch let error as DecodingError {
                throw EngineError("\(path):\(lineNumber): \(describe(error))")
            }
        }
        if traces.isEmpty { throw EngineError("\(path): trace file has no tokens") }
        return traces
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? snakeCase($0.stringValue) }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, context):
            let parent = path(context)
            return "missing key \"\(snakeCase(key.stringValue))\"" + (parent.isEmpty ? "" : " in \(parent)")
        case let .typeMismatch(type, context):
            return "\(path(context)): expected \(type)"
        case let .valueNotFound(type, context):
            return "\(path(context)): expected \(type), found null"
        case .dataCorrupted:
            return "not a JSON object"
        @unknown default:
            return "cannot decode"
        }
    }

    private static func snakeCase(_ key: String) -> String {
        var out = ""
        for ch in key {
            if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }
}
