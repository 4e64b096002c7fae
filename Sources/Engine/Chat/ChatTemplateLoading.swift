import Foundation

/// Where a model keeps its chat template, looked up as transformers does:
///
/// - a folder: `chat_template.jinja` when present (newer transformers save it; it wins over
///   the config), else `chat_template` in `tokenizer_config.json`: a string, or a list of
///   `{"name", "template"}` objects of which "default" is used. Special tokens
///   (`bos_token`, ... as strings or AddedToken objects with "content") come from
///   `tokenizer_config.json`.
/// - a GGUF file: the metadata key `tokenizer.chat_template`; special tokens are the texts of
///   `tokenizer.ggml.bos_token_id`, `eos_token_id`, ... in `tokenizer.ggml.tokens`.
extension ChatTemplate {
    /// The special-token names transformers passes to every template (`special_tokens_map`).
    static let specialTokenNames = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
                                    "mask_token"]

    /// The template of a model folder or GGUF file; nil when it has none.
    public static func load(model path: String) throws -> ChatTemplate? {
        if GGUFModel.isGGUF(path) { return try load(gguf: GGUFFile(path: path)) }
        return try load(folder: path)
    }

    /// The template of a model folder; nil when it has none.
    public static func load(folder: String) throws -> ChatTemplate? {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw EngineError("\(folder): no such folder")
        }
        let configPath = joined(folder, "tokenizer_config.json")
        var specialTokens: [String: String] = [:]
        var configTemplate: String? = nil
        if FileManager.default.fileExists(atPath: configPath) {
            let root = try readTokenizerJSON(configPath)
            do {
                specialTokens = try Self.specialTokens(root)
                configTemplate = try template(root)
            } catch let error as EngineError {
                throw EngineError("\(configPath): \(error.message)")
            }
        }
        let jinjaPath = joined(folder, "chat_template.jinja")
        if FileManager.default.fileExists(atPath: jinjaPath) {
            guard let data = FileManager.default.contents(atPath: jinjaPath) else {
                throw EngineError("\(jinjaPath): cannot be read")
            }
            guard let source = String(data: data, encoding: .utf8) else { throw EngineError("\(jinjaPath): not UTF-8 text") }
            return try ChatTemplate(source: source, origin: jinjaPath, specialTokens: specialTokens)
        }
        guard let configTemplate else { return nil }
        return try ChatTemplate(source: configTemplate, origin: configPath, specialTokens: specialTokens)
    }

    /// The template in a GGUF file's metadata; nil when it has none.
    public static func load(gguf file: GGUFFile) throws -> ChatTemplate? {
        guard let value = file["tokenizer.chat_template"] else { return nil }
        guard let source = value.stringValue else {
            throw EngineError("\(file.path): tokenizer.chat_template is not a string")
        }
        var specialTokens: [String: String] = [:]
        let keys = ["bos_token": "bos_token_id", "eos_token": "eos_token_id", "unk_token": "unknown_token_id",
                    "sep_token": "separator_token_id", "pad_token": "padding_token_id",
                    "cls_token": "cls_token_id", "mask_token": "mask_token_id"]
        if let tokens = file["tokenizer.ggml.tokens"]?.arrayValue {
            for (name, key) in keys {
                guard let idValue = file["tokenizer.ggml.\(key)"] else { continue }
                guard let id = idValue.intValue, tokens.indices.contains(id), let text = tokens[id].stringValue else {
                    throw EngineError("\(file.path): tokenizer.ggml.\(key) \(idValue.summary) is not a token id "
                                      + "(vocabulary of \(tokens.count))")
                }
                specialTokens[name] = text
            }
        }
        return try ChatTemplate(source: source, origin: "\(file.path) tokenizer.chat_template",
                                specialTokens: specialTokens)
    }

    /// `"bos_token": "<s>"` or an AddedToken object `{"content": "<s>", ...}`; null is absent.
    private static func specialTokens(_ root: JSONNode) throws -> [String: String] {
        var tokens: [String: String] = [:]
        for name in specialTokenNames {
            guard let node = root.optional(name) else { continue }
            if case .string(let text) = node.value {
                tokens[name] = text
            } else {
                tokens[name] = try node.required("content").string()
            }
        }
        return tokens
    }

    /// `chat_template`: a string, or a list of named templates of which "default" is used.
    private static func template(_ root: JSONNode) throws -> String? {
        guard let node = root.optional("chat_template") else { return nil }
        switch node.value {
        case .string(let source):
            return source
        case .array(let items):
            var names: [String] = []
            for (index, item) in items.enumerated() {
                let entry = JSONNode(item, path: "chat_template[\(index)]")
                let name = try entry.required("name").string()
                if name == "default" { return try entry.required("template").string() }
                names.append(name)
            }
            throw EngineError("chat_template has several templates (\(names.joined(separator: ", "))) "
                              + "and none is named \"default\"")
        default:
            throw node.error("expected a string or a list of {\"name\", \"template\"} objects")
        }
    }

    private static func joined(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }
}

/// transformers' `apply_chat_template(messages, tokenize=True)`: the rendered prompt encoded
/// with `add_special_tokens=False` (transformers 5 calls `tokenizer(text,
/// add_special_tokens=False)`), because the template writes the BOS token itself.
public func chatPromptIds(template: ChatTemplate, tokenizer: any Tokenizer, messages: [ChatMessage],
                          addGenerationPrompt: Bool = true, variables: [String: ChatTemplateValue] = [:],
                          date: Date = Date()) throws -> [Int] {
    let text = try template.render(messages, addGenerationPrompt: addGenerationPrompt, variables: variables, date: date)
    return try tokenizer.encode(text, addSpecialTokens: false)
}

/// `chatPromptIds` with the template of a model folder or GGUF file; an error naming the
/// model when it has no chat template.
public func chatPromptIds(model path: String, tokenizer: any Tokenizer, messages: [ChatMessage],
                          addGenerationPrompt: Bool = true, variables: [String: ChatTemplateValue] = [:],
                          date: Date = Date()) throws -> [Int] {
    guard let template = try ChatTemplate.load(model: path) else {
        throw EngineError("\(path): no chat template (no chat_template.jinja, no chat_template in "
                          + "tokenizer_config.json, no tokenizer.chat_template in GGUF metadata)")
    }
    return try chatPromptIds(template: template, tokenizer: tokenizer, messages: messages,
                             addGenerationPrompt: addGenerationPrompt, variables: variables, date: date)
}
