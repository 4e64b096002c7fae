import Foundation

/// What starting a generation takes besides the architecture, the same for `depthscope
/// generate` and the workbench: the model and tokenizer read from disk, the prompt's ids
/// checked against the model, the tokens that end the text, and the caches' size.
public enum RunSetup {
    /// The model and tokenizer at `folder` (a model folder or a GGUF file), its matrices
    /// converted to `quantize` as they load when given.
    public static func load(folder: String, quantize: WeightFormat? = nil) throws -> (DepthModel, any Tokenizer) {
        (try DepthModel(folder: folder, quantize: quantize), try loadTokenizer(folder: folder))
    }

    /// `text` as token ids with the tokenizer's special tokens (e.g. BOS), checked against
    /// the model: every id in its vocabulary, not empty, and shorter than its context.
    /// Errors start with `what` ("--prompt", "prompt").
    public static func promptIds(_ text: String, tokenizer: any Tokenizer, model: DepthModel, what: String) throws -> [Int] {
        let ids: [Int]
        do {
            ids = try tokenizer.encode(text, addSpecialTokens: true)
        } catch let error as EngineError {
            throw EngineError("\(what): \(error.message)")
        }
        return try check(ids, model: model, what: what)
    }

    /// A chat turn for an instruct model rendered by its chat template (tokenizer_config.json,
    /// chat_template.jinja or GGUF `tokenizer.chat_template`), with the generation prompt
    /// after it, encoded as transformers' `apply_chat_template` does; checked as `promptIds`.
    /// `model` is the model folder or GGUF file the template comes from.
    public static func chatPromptIds(
        _ message: String, system: String?, model path: String, tokenizer: any Tokenizer, depthModel: DepthModel, what: String
    ) throws -> [Int] {
        let messages = (system.map { [ChatMessage(role: "system", content: $0)] } ?? []) + [ChatMessage(role: "user", content: message)]
        let ids: [Int]
        do {
            ids = try Engine.chatPromptIds(model: path, tokenizer: tokenizer, messages: messages)
        } catch let error as EngineError {
            throw EngineError("\(what): \(error.message)")
        }
        return try check(ids, model: depthModel, what: what)
    }

    /// `ids` checked against the model (see `promptIds`).
    public static func check(_ ids: [Int], model: DepthModel, what: String) throws -> [Int] {
        let vocabulary = model.config.vocabSize
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocabulary }) {
            throw EngineError("\(what): the tokenizer gives id \(bad) but the model's vocabulary has \(vocabulary) entries")
        }
        guard !ids.isEmpty else { throw EngineError("\(what): empty, and the tokenizer adds no BOS token to start from") }
        let context = model.config.maxPositionEmbeddings
        guard ids.count <= context else {
            throw EngineError("\(what): \(ids.count) tokens, but the model's context holds \(context) (max_position_embeddings)")
        }
        return ids
    }

    /// The ids that end generation: config.json's `eos_token_id`s, generation_config.json's
    /// (instruct models list their end-of-turn token there, as transformers' generate reads
    /// it), and the tokenizer's EOS (a GGUF file's end-of-turn token too).
    public static func stopTokens(model: DepthModel, tokenizer: any Tokenizer) -> Set<Int> {
        var stop = Set(model.config.eosTokenIds)
        if let eos = tokenizer.eosTokenId { stop.insert(eos) }
        let generation = (model.folder as NSString).appendingPathComponent("generation_config.json")
        if let data = FileManager.default.contents(atPath: generation),
            let object = try? JSONValue.parse(data, file: generation).objectValue,
            let ids = try? ConfigKeys(raw: object, file: generation).ints("eos_token_id")
        {
            stop.formUnion(ids)
        }
        if GGUFModel.isGGUF(model.folder), let file = try? GGUFFile(path: model.folder),
            let endOfTurn = file["tokenizer.ggml.eot_token_id"]?.intValue
        {
            stop.insert(endOfTurn)
        }
        return stop.filter { $0 >= 0 && $0 < model.config.vocabSize }
    }

    /// KV capacity for a prompt and a token budget: no more than the model's context.
    public static func capacity(model: DepthModel, promptTokens: Int, maxNewTokens: Int) -> Int {
        max(1, min(model.config.maxPositionEmbeddings, promptTokens + maxNewTokens))
    }

    /// Threads for `model`: `requested`, else every core, except for a model so small that
    /// handing its products to another thread costs more than it saves (under
    /// `smallModelBytes` of weights per token: the shipped demo models).
    public static func threads(_ requested: Int?, for model: DepthModel) -> Int {
        if let requested { return max(1, requested) }
        guard model.model.decodeBytesPerToken >= smallModelBytes else { return 1 }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// See `threads(_:for:)`: measured on the 2-core VM (docs in README, Performance).
    public static let smallModelBytes = 4 << 20
}
