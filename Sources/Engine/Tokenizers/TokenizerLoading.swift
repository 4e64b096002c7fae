import Foundation

/// Loads `tokenizer.json` (HF format) or `char_vocab.json` from a model folder, or the
/// tokenizer in a GGUF file's metadata. For an HF
/// tokenizer, the BOS and EOS tokens come from `tokenizer_config.json` when the folder has one.
public func loadTokenizer(folder: String) throws -> any Tokenizer {
    if GGUFModel.isGGUF(folder) { return try loadTokenizer(gguf: folder) }
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
        throw EngineError("\(folder): no such folder")
    }
    guard isFolder.boolValue else { throw EngineError("\(folder): not a folder") }
    let huggingFace = joinPath(folder, "tokenizer.json")
    if FileManager.default.fileExists(atPath: huggingFace) {
        let config = joinPath(folder, "tokenizer_config.json")
        var bos: String? = nil
        var eos: String? = nil
        if FileManager.default.fileExists(atPath: config) {
            let root = try readTokenizerJSON(config)
            do {
                bos = try specialTokenName(root, "bos_token")
                eos = try specialTokenName(root, "eos_token")
            } catch let error as EngineError {
                throw EngineError("\(config): \(error.message)")
            }
        }
        return try loadHuggingFace(huggingFace, root: readTokenizerJSON(huggingFace), bosToken: bos, eosToken: eos)
    }
    let char = joinPath(folder, "char_vocab.json")
    if FileManager.default.fileExists(atPath: char) { return try loadTokenizer(file: char) }
    throw EngineError("\(folder): no tokenizer.json or char_vocab.json")
}

/// Loads one tokenizer file: an HF `tokenizer.json`, a `char_vocab.json` or a GGUF file.
public func loadTokenizer(file: String) throws -> any Tokenizer {
    if GGUFModel.isGGUF(file) { return try loadTokenizer(gguf: file) }
    let root = try readTokenizerJSON(file)
    if root["model"] != nil {
        return try loadHuggingFace(file, root: root, bosToken: nil, eosToken: nil)
    }
    if let type = root["type"], case .string(let name) = type.value, name == "char" {
        do {
            return try CharTokenizer(json: root)
        } catch let error as EngineError {
            throw EngineError("\(file): \(error.message)")
        }
    }
    throw EngineError("\(file): not a tokenizer.json (no \"model\") nor a char_vocab.json (no \"type\": \"char\")")
}

private func loadHuggingFace(_ path: String, root: JSONNode, bosToken: String?, eosToken: String?) throws -> any Tokenizer {
    do {
        return try HuggingFaceTokenizer(json: root, bosToken: bosToken, eosToken: eosToken)
    } catch let error as EngineError {
        throw EngineError("\(path): \(error.message)")
    }
}

/// Reads and parses a JSON file; every error names the file.
func readTokenizerJSON(_ path: String) throws -> JSONNode {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
        throw EngineError("\(path): no such file")
    }
    guard !isFolder.boolValue else { throw EngineError("\(path): is a folder, not a file") }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw EngineError("\(path): cannot be read")
    }
    do {
        return JSONNode(try ExactJSONParser.parse([UInt8](data)))
    } catch let error as EngineError {
        throw EngineError("\(path): \(error.message)")
    }
}

/// `"bos_token": "<s>"` or `"bos_token": {"content": "<s>", ...}` or null.
private func specialTokenName(_ root: JSONNode, _ key: String) throws -> String? {
    guard let node = root.optional(key) else { return nil }
    if case .string(let name) = node.value { return name }
    return try node.required("content").string()
}

private func joinPath(_ folder: String, _ name: String) -> String {
    folder.hasSuffix("/") ? folder + name : folder + "/" + name
}
