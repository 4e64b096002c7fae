import Engine
import Foundation

/// Byte-exact standard input and unbuffered standard output/error for the commands.
enum StandardStreams {
    /// All of standard input, byte for byte.
    static func readAllInput() -> Data {
        FileHandle.standardInput.readDataToEndOfFile()
    }

    /// All of standard input as UTF-8 text; an error names the first bad byte.
    static func readAllText(allowEmpty: Bool = false) throws -> String {
        let data = readAllInput()
        if data.isEmpty && !allowEmpty {
            throw EngineError("stdin: no input (the text is read from standard input)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw EngineError("stdin: not valid UTF-8 (first bad byte at offset \(firstInvalidUTF8Offset(data)))")
        }
        return text
    }

    /// Writes at once (no buffering), so streamed text appears per token. A closed or
    /// failing stdout is an error (generation stops) rather than a trap.
    static func write(_ text: String) throws {
        do {
            try FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
        } catch {
            let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? any Error
            throw EngineError("stdout: cannot write (\((underlying ?? error).localizedDescription))")
        }
    }

    /// Best effort: there is nowhere left to report a failure to write to stderr.
    static func writeError(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
    }

    private static func firstInvalidUTF8Offset(_ data: Data) -> Int {
        let bytes = [UInt8](data)
        var offset = 0
        while offset < bytes.count {
            let lead = bytes[offset]
            let length: Int
            switch lead {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return offset
            }
            guard offset + length <= bytes.count,
                String(validating: bytes[offset..<(offset + length)], as: UTF8.self) != nil
            else { return offset }
            offset += length
        }
        return offset
    }
}
