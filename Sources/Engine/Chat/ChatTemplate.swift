import Foundation

/// One message of a conversation, as transformers' `apply_chat_template` takes them.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A value passed to a template besides the messages (Qwen3's `enable_thinking`, a
/// `date_string`, tool schemas): the JSON values transformers passes as keyword arguments.
public indirect enum ChatTemplateValue: Sendable, Equatable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([ChatTemplateValue])
    /// A JSON object; the member order is kept (it shows in `tojson` and when printed).
    case object([ChatTemplateMember])

    var jinja: JinjaValue {
        switch self {
        case .none: return .none
        case .bool(let flag): return .bool(flag)
        case .int(let number): return .int(number)
        case .double(let number): return .float(number)
        case .string(let text): return .string(text)
        case .list(let items): return .list(items.map(\.jinja))
        case .object(let members):
            var dict = JinjaDict()
            for member in members { dict[member.key] = member.value.jinja }
            return .dict(dict)
        }
    }
}

public struct ChatTemplateMember: Sendable, Equatable {
    public var key: String
    public var value: ChatTemplateValue

    public init(_ key: String, _ value: ChatTemplateValue) {
        self.key = key
        self.value = value
    }
}

/// An instruct model's Jinja chat template, rendered exactly as transformers'
/// `apply_chat_template(..., tokenize=False)` renders it (jinja2 with trim_blocks,
/// lstrip_blocks, loop controls, `raise_exception`, `strftime_now` and its own `tojson`).
///
/// The Jinja subset is what real instruct templates use (SmolLM2, Qwen2.5, Qwen3, Llama 3.x,
/// Gemma 2/3, Phi-3/3.5, Mistral); anything else is one `EngineError` naming the construct
/// and the template line, e.g.
/// "chat template (model/tokenizer_config.json) line 3: filter 'wordcount' is not supported".
public struct ChatTemplate: Sendable {
    /// The file the template came from, for errors.
    public let origin: String
    public let source: String
    /// The named special tokens the template sees (`bos_token`, `eos_token`, `unk_token`,
    /// `pad_token`, ...), from the tokenizer config or the GGUF metadata.
    public var specialTokens: [String: String]
    private let program: [JinjaNode]

    /// Parses the template once; a syntax error names `origin` and the line.
    public init(source: String, origin: String, specialTokens: [String: String] = [:]) throws {
        self.origin = origin
        self.source = source
        self.specialTokens = specialTokens
        do {
            program = try JinjaParser.parse(source)
        } catch let error as JinjaError {
            throw Self.engineError(error, origin: origin)
        }
    }

    public var bosToken: String? { specialTokens["bos_token"] }
    public var eosToken: String? { specialTokens["eos_token"] }

    /// The prompt text for `messages`. `addGenerationPrompt` appends the header that starts
    /// the assistant's reply. `variables` are further template variables, as transformers'
    /// keyword arguments: `tools` (JSON schemas) and `documents` (both None unless given),
    /// `enable_thinking`, `date_string`, ...; they override the special tokens. `date` is what
    /// `strftime_now` reads (local time).
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool,
                       variables: [String: ChatTemplateValue] = [:], date: Date = Date()) throws -> String {
        var context: [String: JinjaValue] = [:]
        for (name, token) in specialTokens { context[name] = .string(token) }
        // transformers always passes these two, as None when not given.
        context["tools"] = JinjaValue.none
        context["documents"] = JinjaValue.none
        for (name, value) in variables {
            guard name != "messages" && name != "add_generation_prompt" else {
                throw EngineError("chat template (\(origin)): '\(name)' is an argument of render, not a variable")
            }
            context[name] = value.jinja
        }
        context["messages"] = .list(messages.map { message in
            .dict(JinjaDict([("role", .string(message.role)), ("content", .string(message.content))]))
        })
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        let interpreter = JinjaInterpreter(globals: JinjaGlobals.make(date: date), variables: context)
        do {
            return try interpreter.render(program)
        } catch let error as JinjaError {
            throw Self.engineError(error, origin: origin)
        }
    }

    /// `render` with explicit BOS and EOS token texts (nil leaves them undefined).
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String?, eosToken: String?,
                       date: Date = Date()) throws -> String {
        var copy = self
        copy.specialTokens["bos_token"] = bosToken
        copy.specialTokens["eos_token"] = eosToken
        return try copy.render(messages, addGenerationPrompt: addGenerationPrompt, date: date)
    }

    private static func engineError(_ error: JinjaError, origin: String) -> EngineError {
        // One line: a message from the template itself may contain newlines.
        let message = error.message.replacingOccurrences(of: "\n", with: "\\n")
        if let line = error.line {
            return EngineError("chat template (\(origin)) line \(line): \(message)")
        }
        return EngineError("chat template (\(origin)): \(message)")
    }
}
