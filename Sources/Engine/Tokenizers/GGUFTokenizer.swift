/// The tokenizer stored in a GGUF file's metadata (`tokenizer.ggml.*`), turned into the
/// `tokenizer.json` that Hugging Face uses for the same family, and loaded with the
/// engine's one BPE implementation (`HuggingFaceTokenizer`).
///
/// - model "gpt2": byte-level BPE. Tokens and merges are stored; the pre-tokenizer is
///   named by `tokenizer.ggml.pre` (llama-bpe = Llama 3, qwen2 = Qwen2/Qwen3, smollm =
///   SmolLM/SmolLM2, gpt-4o = Phi-4-mini and other o200k vocabularies, gpt2/default).
/// - model "llama": SentencePiece BPE. Tokens, scores and token types are stored; the
///   merges are rebuilt from the vocabulary as transformers does when it converts a
///   SentencePiece model (every split of a token into two tokens, best-scored first), with
///   byte fallback (`<0xNN>`) and a "▁" prepended as HF's Llama tokenizer does.
/// Tokens of type CONTROL or UNKNOWN become special added tokens, USER_DEFINED ones
/// ordinary added tokens, UNUSED ones are left out (convert_hf_to_gguf.py pads with them).
/// GGUF has no place for an added token's lstrip / rstrip / single_word flags, so a
/// tokenizer.json that sets them tokenizes text around those tokens differently after
/// conversion, in llama.cpp as here.
public enum GGUFTokenizer {
    /// llama.cpp's token types (`llama_token_type`).
    enum TokenType: Int {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// OpenAI's o200k split, as the tokenizer.json files of Phi-4-mini and Xenova/gpt-4o write it.
    static let gpt4oPattern =
        #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Whether the file has a tokenizer (llama.cpp writes "no_vocab" for none).
    public static func hasTokenizer(_ file: GGUFFile) -> Bool {
        guard let model = file["tokenizer.ggml.model"]?.stringValue else { return false }
        return model != "no_vocab" && model != "none"
    }

    static func load(_ file: GGUFFile) throws -> any Tokenizer {
        do {
            let (json, bos, eos) = try tokenizerJSON(file)
            return try HuggingFaceTokenizer(json: JSONNode(json), bosToken: bos, eosToken: eos)
        } catch let error as EngineError {
            throw EngineError("\(file.path): \(error.message)")
        }
    }

    /// The equivalent tokenizer.json, and the BOS and EOS token texts.
    static func tokenizerJSON(_ file: GGUFFile) throws -> (ExactJSONValue, bos: String?, eos: String?) {
        guard let model = file["tokenizer.ggml.model"]?.stringValue, hasTokenizer(file) else {
            throw EngineError("no tokenizer in the metadata (tokenizer.ggml.model is missing or no_vocab)")
        }
        guard let tokenValues = file["tokenizer.ggml.tokens"]?.arrayValue else {
            throw EngineError("tokenizer.ggml.tokens is missing or not an array")
        }
        let tokens = try tokenValues.enumerated().map { index, value in
            guard let text = value.stringValue else { throw EngineError("tokenizer.ggml.tokens[\(index)] is not a string") }
            return text
        }
        let types = try integers("tokenizer.ggml.token_type", file, count: tokens.count)
            ?? Array(repeating: TokenType.normal.rawValue, count: tokens.count)
        func tokenText(_ key: String) throws -> String? {
            guard let value = file[key] else { return nil }
            guard let id = value.intValue, tokens.indices.contains(id) else {
                throw EngineError("\(key) \(value.summary) is not a token id (vocabulary of \(tokens.count))")
            }
            return tokens[id]
        }
        let bos = try tokenText("tokenizer.ggml.bos_token_id")
        let eos = try tokenText("tokenizer.ggml.eos_token_id")
        let unknown = try tokenText("tokenizer.ggml.unknown_token_id")

        var vocabulary: [(key: String, value: ExactJSONValue)] = []
        var added: [ExactJSONValue] = []
        for (id, token) in tokens.enumerated() {
            let type = TokenType(rawValue: types[id]) ?? .normal
            if type == .unused { continue }
            vocabulary.append((token, .integer(id)))
            if type == .control || type == .unknown || type == .userDefined {
                // GGUF keeps no lstrip/rstrip/single_word flags; `normalized` takes HF's
                // default (special tokens are matched raw, others after normalization).
                let special = type != .userDefined
                added.append(.object([
                    ("id", .integer(id)), ("content", .string(token)), ("single_word", .bool(false)),
                    ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(!special)),
                    ("special", .bool(special)),
                ]))
            }
        }

        let bpe: ExactJSONValue
        var normalizer: ExactJSONValue = .null
        let preTokenizer: ExactJSONValue
        let decoder: ExactJSONValue
        let addBOS: Bool
        switch model {
        case "gpt2":
            guard let mergeValues = file["tokenizer.ggml.merges"]?.arrayValue else {
                throw EngineError("tokenizer.ggml.merges is missing (model gpt2 needs merges)")
            }
            let merges: [ExactJSONValue] = try mergeValues.enumerated().map { index, value in
                guard let text = value.stringValue else { throw EngineError("tokenizer.ggml.merges[\(index)] is not a string") }
                return .string(text)
            }
            let pre = file["tokenizer.ggml.pre"]?.stringValue ?? "default"
            let byteLevel: ExactJSONValue = .object([
                ("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)), ("use_regex", .bool(false)),
            ])
            func split(_ pattern: String) -> ExactJSONValue {
                .object([
                    ("type", .string("Sequence")),
                    ("pretokenizers", .array([
                        .object([
                            ("type", .string("Split")), ("pattern", .object([("Regex", .string(pattern))])),
                            ("behavior", .string("Isolated")), ("invert", .bool(false)),
                        ]),
                        byteLevel,
                    ])),
                ])
            }
            var ignoreMerges = false
            switch pre {
            case "llama-bpe", "llama3", "llama-v3":
                preTokenizer = split(llama3Pattern)
                ignoreMerges = true  // as Llama 3's tokenizer.json and llama.cpp
            case "qwen2":
                preTokenizer = split(qwen2Pattern)
                normalizer = .object([("type", .string("NFC"))])
            case "gpt-4o":
                preTokenizer = split(gpt4oPattern)
            case "smollm":
                // SmolLM's tokenizer.json: every digit alone, then GPT-2's ByteLevel split.
                preTokenizer = .object([
                    ("type", .string("Sequence")),
                    ("pretokenizers", .array([
                        .object([("type", .string("Digits")), ("individual_digits", .bool(true))]),
                        .object([
                            ("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)), ("use_regex", .bool(true)),
                        ]),
                    ])),
                ])
            case "gpt2", "gpt-2", "default":
                preTokenizer = .object([
                    ("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)), ("use_regex", .bool(true)),
                ])
            default:
                throw EngineError("tokenizer.ggml.pre '\(pre)' is not supported (supported: llama-bpe, qwen2, gpt-4o, smollm, gpt2, default)")
            }
            bpe = .object([
                ("type", .string("BPE")), ("vocab", .object(vocabulary)), ("merges", .array(merges)),
                ("ignore_merges", .bool(ignoreMerges)),
            ])
            decoder = .object([("type", .string("ByteLevel"))])
            addBOS = file["tokenizer.ggml.add_bos_token"]?.boolValue ?? false
        case "llama":
            guard let scoreValues = file["tokenizer.ggml.scores"]?.arrayValue, scoreValues.count == tokens.count else {
                throw EngineError("tokenizer.ggml.scores is missing or not one per token (model llama needs scores)")
            }
            let scores = try scoreValues.enumerated().map { index, value in
                guard let score = value.doubleValue else { throw EngineError("tokenizer.ggml.scores[\(index)] is not a number") }
                return score
            }
            bpe = .object([
                ("type", .string("BPE")), ("vocab", .object(vocabulary)),
                ("merges", .array(sentencePieceMerges(tokens: tokens, scores: scores, types: types))),
                ("unk_token", unknown.map(ExactJSONValue.string) ?? .null), ("fuse_unk", .bool(true)),
                ("byte_fallback", .bool(true)),
            ])
            let prefix = file["tokenizer.ggml.add_space_prefix"]?.boolValue ?? true
            preTokenizer = .object([
                ("type", .string("Metaspace")), ("replacement", .string("\u{2581}")),
                ("prepend_scheme", .string(prefix ? "always" : "never")), ("split", .bool(false)),
            ])
            decoder = .object([
                ("type", .string("Sequence")),
                ("decoders", .array([
                    .object([("type", .string("Replace")), ("pattern", .object([("String", .string("\u{2581}"))])), ("content", .string(" "))]),
                    .object([("type", .string("ByteFallback"))]),
                    .object([("type", .string("Fuse"))]),
                    .object([("type", .string("Strip")), ("content", .string(" ")), ("start", .integer(prefix ? 1 : 0)), ("stop", .integer(0))]),
                ])),
            ])
            addBOS = file["tokenizer.ggml.add_bos_token"]?.boolValue ?? true
        default:
            throw EngineError("tokenizer.ggml.model '\(model)' is not supported (supported: gpt2, llama)")
        }

        let addEOS = file["tokenizer.ggml.add_eos_token"]?.boolValue ?? false
        var template: [ExactJSONValue] = []
        var specials: [(key: String, value: ExactJSONValue)] = []
        func special(_ text: String?) {
            guard let text, let id = tokens.firstIndex(of: text) else { return }
            template.append(.object([("SpecialToken", .object([("id", .string(text)), ("type_id", .integer(0))]))]))
            specials.append((text, .object([("id", .string(text)), ("ids", .array([.integer(id)])), ("tokens", .array([.string(text)]))])))
        }
        if addBOS { special(bos) }
        template.append(.object([("Sequence", .object([("id", .string("A")), ("type_id", .integer(0))]))]))
        if addEOS { special(eos) }
        let postProcessor: ExactJSONValue = .object([
            ("type", .string("TemplateProcessing")), ("single", .array(template)), ("special_tokens", .object(specials)),
        ])
        let json: ExactJSONValue = .object([
            ("added_tokens", .array(added)), ("normalizer", normalizer), ("pre_tokenizer", preTokenizer),
            ("post_processor", postProcessor), ("decoder", decoder), ("model", bpe),
        ])
        return (json, bos, eos)
    }

    /// Merges of a SentencePiece BPE vocabulary, as transformers' `generate_merges`: every
    /// way to cut a token into two tokens of the vocabulary is a merge; best score first,
    /// then lower id of the merged token, then shorter left part.
    static func sentencePieceMerges(tokens: [String], scores: [Double], types: [Int]) -> [ExactJSONValue] {
        var ids: [[Unicode.Scalar]: Int] = [:]
        for (id, token) in tokens.enumerated() where types[id] != TokenType.unused.rawValue {
            ids[Array(token.unicodeScalars)] = ids[Array(token.unicodeScalars)] ?? id
        }
        var found: [(score: Double, merged: Int, leftLength: Int, left: String, right: String)] = []
        for (id, token) in tokens.enumerated() where types[id] != TokenType.unused.rawValue {
            let scalars = Array(token.unicodeScalars)
            guard scalars.count >= 2 else { continue }
            for cut in 1..<scalars.count {
                let left = Array(scalars[..<cut])
                let right = Array(scalars[cut...])
                if ids[left] != nil && ids[right] != nil {
                    found.append((scores[id], id, cut, String(String.UnicodeScalarView(left)), String(String.UnicodeScalarView(right))))
                }
            }
        }
        found.sort { a, b in
            if a.score != b.score { return a.score > b.score }
            if a.merged != b.merged { return a.merged < b.merged }
            return a.leftLength < b.leftLength
        }
        return found.map { .array([.string($0.left), .string($0.right)]) }
    }

    /// An array of integers of exactly `count` entries, or nil when the key is absent.
    private static func integers(_ key: String, _ file: GGUFFile, count: Int) throws -> [Int]? {
        guard let value = file[key] else { return nil }
        guard let items = value.arrayValue, items.count == count else {
            throw EngineError("\(key) must be an array of \(count) integers (one per token)")
        }
        return try items.enumerated().map { index, item in
            guard let number = item.intValue else { throw EngineError("\(key)[\(index)] is not an integer") }
            return number
        }
    }
}

/// Loads the tokenizer of a GGUF file (see `GGUFTokenizer`).
public func loadTokenizer(gguf path: String) throws -> any Tokenizer {
    try GGUFTokenizer.load(GGUFFile(path: path))
}
