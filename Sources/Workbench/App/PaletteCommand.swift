import Foundation
import Engine

/// A command typed after `:`.
public enum PaletteCommand: Equatable, Sendable {
    case architecture(String)
    case model(String)
    case theme(String)
    case save(String)
    /// nil turns compare off.
    case compare(String?)
    case prompt(String)
    case sample([SamplerChange])
    case preset(Int)
    case sparkline(SparklineStyle)
    case restart, pause, resume, step, back, help, quit

    /// Command names with their argument and what they do, for help and Tab completion.
    public static let reference: [(name: String, argument: String, help: String)] = [
        ("arch", "SPEC", "architecture: mor threshold=0.6"),
        ("model", "NAME", "model: shakespeare-vanilla"),
        ("compare", "SPEC|off", "A/B against SPEC, same seed"),
        ("prompt", "TEXT", "new prompt (\\n = newline)"),
        ("sample", "K=V…", "temperature top_k top_p min_p repetition_penalty seed max_tokens"),
        ("seed", "N", "= :sample seed=N"),
        ("temp", "T", "= :sample temperature=T"),
        ("theme", "NAME", "colours: gruvbox, light…"),
        ("save", "FILE", "trace as JSON Lines"),
        ("preset", "N", "layout 1-\(Layouts.presets.count)"),
        ("sparkline", "STYLE", "braille, block or ascii"),
        ("restart", "", "restart the run(s)"),
        ("pause", "", "pause"), ("resume", "", "resume"),
        ("step", "", "one token"), ("back", "", "take one back (replay)"),
        ("help", "", "key help"), ("quit", "", "quit"),
    ]

    /// Parses the text after `:`; errors are one line naming what is wrong.
    public static func parse(_ input: String) throws -> PaletteCommand {
        let text = input.trimmingCharacters(in: .whitespaces)
        let name = text.prefix(while: { $0 != " " })
        let argument = text.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
        func needArgument(_ what: String) throws -> String {
            guard !argument.isEmpty else { throw EngineError(":\(name) needs \(what)") }
            return argument
        }
        func noArgument(_ command: PaletteCommand) throws -> PaletteCommand {
            guard argument.isEmpty else { throw EngineError(":\(name) takes no argument") }
            return command
        }
        switch name {
        case "arch", "architecture":
            let spec = try needArgument("an architecture, e.g. :arch mor threshold=0.6")
            _ = try ArchitectureSpec.parse(spec)
            return .architecture(spec)
        case "model": return .model(try needArgument("a model name"))
        case "theme": return .theme(try needArgument("a theme name"))
        case "save", "w": return .save(try needArgument("a file name, e.g. :save trace.jsonl"))
        case "compare", "ab":
            let spec = try needArgument("an architecture, or off")
            if spec == "off" { return .compare(nil) }
            _ = try ArchitectureSpec.parse(spec)
            return .compare(spec)
        case "prompt":
            return .prompt(try needArgument("text").replacingOccurrences(of: "\\n", with: "\n")
                .replacingOccurrences(of: "\\t", with: "\t"))
        case "sample":
            let pairs = try needArgument("key=value settings").split(separator: " ").map { word -> SamplerChange in
                guard let eq = word.firstIndex(of: "=") else {
                    throw EngineError(":sample \"\(word)\" is not key=value")
                }
                return try SamplerChange.parse(key: String(word[..<eq]), value: String(word[word.index(after: eq)...]))
            }
            return .sample(pairs)
        case "seed", "temp", "temperature", "top_k", "top_p", "min_p", "repetition_penalty", "max_tokens":
            return .sample([try SamplerChange.parse(key: String(name), value: try needArgument("a value"))])
        case "preset":
            guard let n = Int(try needArgument("a number")), (1...Layouts.presets.count).contains(n) else {
                throw EngineError(":preset \(argument): expected 1-\(Layouts.presets.count)")
            }
            return .preset(n - 1)
        case "sparkline":
            guard let style = SparklineStyle(rawValue: try needArgument("braille, block or ascii")) else {
                throw EngineError(":sparkline \(argument): expected braille, block or ascii")
            }
            return .sparkline(style)
        case "restart": return try noArgument(.restart)
        case "pause": return try noArgument(.pause)
        case "resume", "play": return try noArgument(.resume)
        case "step": return try noArgument(.step)
        case "back": return try noArgument(.back)
        case "help": return try noArgument(.help)
        case "quit", "q": return try noArgument(.quit)
        case "": throw EngineError("empty command (try :help)")
        default: throw EngineError(":\(name): unknown command (commands: \(reference.map(\.name).joined(separator: " ")))")
        }
    }

    /// Completes a command name (Tab in the palette); returns nil when nothing fits.
    public static func complete(_ input: String) -> String? {
        guard !input.contains(" ") else { return nil }
        let matches = reference.map(\.name).filter { $0.hasPrefix(input) }
        guard let first = matches.first else { return nil }
        if matches.count == 1 { return first + (reference.first { $0.name == first }?.argument.isEmpty == false ? " " : "") }
        var common = first
        for m in matches.dropFirst() { while !m.hasPrefix(common) { common.removeLast() } }
        return common
    }
}

/// One sampler setting from `:sample`, checked.
public enum SamplerChange: Equatable, Sendable {
    case temperature(Float), topK(Int), topP(Float), minP(Float), repetitionPenalty(Float)
    case seed(UInt64), maxTokens(Int)

    public static func parse(key: String, value: String) throws -> SamplerChange {
        func float(_ range: ClosedRange<Float>) throws -> Float {
            guard let v = Float(value), v.isFinite, range.contains(v) else {
                throw EngineError("\(key)=\(value): expected a number in \(range.lowerBound)...\(range.upperBound)")
            }
            return v
        }
        func int(_ range: ClosedRange<Int>) throws -> Int {
            guard let v = Int(value), range.contains(v) else {
                throw EngineError("\(key)=\(value): expected a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return v
        }
        switch key {
        case "temperature", "temp": return .temperature(try float(0...100))
        case "top_k": return .topK(try int(0...1_000_000))
        case "top_p": return .topP(try float(0...1))
        case "min_p": return .minP(try float(0...1))
        case "repetition_penalty", "repeat": return .repetitionPenalty(try float(0.01...100))
        case "seed":
            guard let v = UInt64(value) else { throw EngineError("seed=\(value): expected a whole number ≥ 0") }
            return .seed(v)
        case "max_tokens": return .maxTokens(try int(1...1_000_000))
        default:
            throw EngineError("\(key): unknown sampling setting (temperature top_k top_p min_p repetition_penalty seed max_tokens)")
        }
    }

    public func apply(to settings: inout RunSettings) {
        switch self {
        case let .temperature(v): settings.sampler.temperature = v
        case let .topK(v): settings.sampler.topK = v
        case let .topP(v): settings.sampler.topP = v
        case let .minP(v): settings.sampler.minP = v
        case let .repetitionPenalty(v): settings.sampler.repetitionPenalty = v
        case let .seed(v): settings.sampler.seed = v
        case let .maxTokens(v): settings.maxNewTokens = v
        }
    }

    /// The palette text that shows every current setting (the `s` key opens it).
    public static func describe(_ settings: RunSettings) -> String {
        let s = settings.sampler
        return "sample temperature=\(format(s.temperature)) top_k=\(s.topK) top_p=\(format(s.topP)) "
            + "min_p=\(format(s.minP)) repetition_penalty=\(format(s.repetitionPenalty)) seed=\(s.seed) "
            + "max_tokens=\(settings.maxNewTokens)"
    }

    static func format(_ v: Float) -> String {
        v == v.rounded() ? String(Int(v)) : String(v)
    }
}
