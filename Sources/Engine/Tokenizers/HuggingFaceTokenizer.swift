/// A Hugging Face `tokenizer.json` with a BPE model: the byte-level family (GPT-2, Llama 3,
/// Qwen2) and the SentencePiece family (Llama 2, Mistral). Encoding follows HF's pipeline:
/// added tokens are cut out, the rest is normalized, pre-tokenized, split into BPE tokens,
/// and the post-processor adds special tokens.
struct HuggingFaceTokenizer: Tokenizer {
    let kind: String
    let vocabularySize: Int
    let bosTokenId: Int?
    let eosTokenId: Int?

    let model: BPEModel
    let addedVocabulary: AddedVocabulary
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let postProcessor: PostProcessor?
    let decoder: TokenDecoder?
    /// id -> text of an added token, for decoding (added tokens win over the model vocabulary,
    /// as in HF). A `normalized` token decodes as its normalized content, as HF's `id_to_token`.
    private let addedById: [Int: (text: String, special: Bool)]

    /// `bosToken`, `eosToken`: names from `tokenizer_config.json`, when there is one.
    init(json root: JSONNode, bosToken: String? = nil, eosToken: String? = nil) throws {
        guard case .object = root.value else { throw root.error("expected a JSON object") }
        model = try BPEModel(json: root.required("model"))
        normalizer = try root.optional("normalizer").map(Normalizer.init(json:))
        preTokenizer = try root.optional("pre_tokenizer").map(PreTokenizer.init(json:))
        postProcessor = try root.optional("post_processor").map(PostProcessor.init(json:))
        decoder = try root.optional("decoder").map(TokenDecoder.init(json:))

        var added: [AddedToken] = []
        for node in try root.optional("added_tokens")?.array() ?? [] {
            let token = try AddedToken(json: node)
            // HF gives a token that is also in the model vocabulary the model's id; a file
            // that says otherwise is inconsistent.
            if let modelId = model.vocabulary[Array(token.content.unicodeScalars)], modelId != token.id {
                throw node.error("added token '\(token.content)' has id \(token.id) but the vocabulary says \(modelId)")
            }
            added.append(token)
        }
        addedVocabulary = try AddedVocabulary(tokens: added, normalizer: normalizer)
        var byId: [Int: (text: String, special: Bool)] = [:]
        for token in added {
            var text = token.content
            if token.normalized, let normalizer {
                text = String(String.UnicodeScalarView(try normalizer.apply(to: Array(token.content.unicodeScalars))))
            }
            byId[token.id] = (text, token.special)
        }
        addedById = byId
        vocabularySize = max(model.tokens.count, (added.map(\.id).max() ?? -1) + 1)

        kind = Self.family(preTokenizer: preTokenizer, decoder: decoder, model: model)
        let vocabulary = model.vocabulary
        func lookup(_ name: String?) -> Int? {
            guard let name else { return nil }
            let scalars = Array(name.unicodeScalars)
            return added.first { $0.content.unicodeScalars.elementsEqual(scalars) }?.id ?? vocabulary[scalars]
        }
        bosTokenId = lookup(bosToken) ?? postProcessor?.leadingSpecialIds.first
        eosTokenId = lookup(eosToken) ?? lookup(Self.likelyEOS(added))
    }

    // MARK: Encoding

    func encode(_ text: String, addSpecialTokens: Bool) throws -> [Int] {
        let segments = try addedVocabulary.extractAndNormalize(Array(text.unicodeScalars), normalizer: normalizer)
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 3)
        var cache: [[Unicode.Scalar]: [Int]] = [:]  // per call: no shared mutable state
        for segment in segments {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let piece):
                let words = try preTokenizer?.apply([piece]) ?? [piece]
                for word in words {
                    if let hit = cache[word.scalars] {
                        ids.append(contentsOf: hit)
                        continue
                    }
                    var wordIds: [Int] = []
                    try model.tokenize(word.scalars, into: &wordIds)
                    if word.scalars.count < 256 { cache[word.scalars] = wordIds }
                    ids.append(contentsOf: wordIds)
                }
            }
        }
        if addSpecialTokens, let postProcessor { ids = postProcessor.apply(ids) }
        return ids
    }

    // MARK: Decoding

    func decode(_ ids: [Int], skipSpecialTokens: Bool) throws -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            let (token, special) = try tokenText(id)
            if skipSpecialTokens && special { continue }
            tokens.append(token)
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return try decoder.decodeChain(tokens).joined()
    }

    /// The token's text and whether it is a special token; an unknown id is an error.
    func tokenText(_ id: Int) throws -> (text: String, special: Bool) {
        if let added = addedById[id] { return added }
        // A special token spelled like a vocabulary entry has that entry's id (checked at
        // load), so a token found only in the model vocabulary is never special.
        if id >= 0, id < model.tokens.count, let token = model.tokens[id] { return (token, false) }
        throw EngineError("token id \(id) is out of range (vocabulary size \(vocabularySize))")
    }

    func displayText(_ id: Int) -> String {
        guard let (token, _) = try? tokenText(id) else { return "<unknown id \(id)>" }
        guard let text = try? decode([id], skipSpecialTokens: false) else { return token }
        if text.unicodeScalars.contains("\u{FFFD}") && !token.unicodeScalars.contains("\u{FFFD}") {
            // Part of a character: show its bytes rather than a replacement character.
            if case .byteLevel? = decoder {
                return ByteLevel.bytes(of: token).map(BPEModel.byteTokenName).joined()
            }
            return token
        }
        return text
    }

    /// How many ids at the end of `ids` may still decode differently once more ids follow:
    /// with a ByteFallback decoder, a run of `<0xNN>` tokens (and skipped special tokens
    /// inside it) is only final when a different token ends it.
    func trailingIdsStillOpen(_ ids: ArraySlice<Int>, skipSpecialTokens: Bool) -> Int {
        guard decoder?.joinsByteTokens == true else { return 0 }
        var count = 0
        var sawByte = false
        for id in ids.reversed() {
            guard let (token, special) = try? tokenText(id) else { break }
            if TokenDecoder.byteValue(token) != nil && !(skipSpecialTokens && special) {
                sawByte = true
            } else if !(skipSpecialTokens && special) {
                break
            }
            count += 1
        }
        return sawByte ? count : 0
    }

    // MARK: Helpers

    private static func family(preTokenizer: PreTokenizer?, decoder: TokenDecoder?, model: BPEModel) -> String {
        func usesByteLevel(_ p: PreTokenizer?) -> Bool {
            switch p {
            case .byteLevel?: return true
            case .sequence(let steps)?: return steps.contains { usesByteLevel($0) }
            default: return false
            }
        }
        func usesMetaspace(_ p: PreTokenizer?) -> Bool {
            switch p {
            case .metaspace?: return true
            case .sequence(let steps)?: return steps.contains { usesMetaspace($0) }
            default: return false
            }
        }
        if usesByteLevel(preTokenizer) { return "bpe-byte-level" }
        if usesMetaspace(preTokenizer) || model.byteFallback { return "bpe-sentencepiece" }
        if case .metaspace? = decoder { return "bpe-sentencepiece" }
        return "bpe"
    }

    /// When no tokenizer_config.json names the EOS token: the first special token with a
    /// conventional end-of-text name.
    private static func likelyEOS(_ added: [AddedToken]) -> String? {
        let names = ["</s>", "<|endoftext|>", "<|end_of_text|>", "<|end_text|>", "<|im_end|>", "<eos>", "<|eot_id|>", "[SEP]"]
        for name in names where added.contains(where: { $0.special && $0.content == name }) {
            return name
        }
        return nil
    }
}
