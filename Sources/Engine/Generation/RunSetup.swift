import Foundation

/// What starting a generation takes besides the architecture, the same for `depthscope
/// generate` and the workbench: the model and tokenizer read from disk, the prompt's ids
/// checked against the model, the tokens that end the text, and the caches' size.
public enum RunSetup {
    /// The model and tokenizer at `folder` (a model folder or a GGUF file).
    public static func load(folder: String) throws -> (DepthModel, any Tokenizer) {
        (try DepthModel(folder: folder), try loadTokenizer(folder: folder))
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

    /// The ids that end generation: config.json's `eos_token_id`s and the tokenizer's EOS.
    public static func stopTokens(model: DepthModel, tokenizer: any Tokenizer) -> Set<Int> {
        var stop = Set(model.config.eosTokenIds)
        if let eos = tokenizer.eosTokenId { stop.insert(eos) }
        return stop
    }

    /// KV capacity for a prompt and a token budget: no more than the model's context.
    public static func capacity(model: DepthModel, promptTokens: Int, maxNewTokens: Int) -> Int {
        max(1, min(model.config.maxPositionEmbeddings, promptTokens + maxNewTokens))
    }

    /// Threads to use by default: every core.
    public static var defaultThreads: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}
