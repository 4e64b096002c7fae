/// A character vocabulary for small character-level models (`char_vocab.json`):
///
///     {"type": "char", "chars": ["\n", " ", "!", ...], "unk_id": null, "bos_id": null, "eos_id": null}
///
/// Id i is `chars[i]`; every entry is exactly one Unicode scalar. Text is split into scalars
/// (so "\r\n" is two tokens); a scalar outside the vocabulary becomes `unk_id`, or is an error
/// naming it when `unk_id` is null. `addSpecialTokens` puts `bos_id` first when there is one.
struct CharTokenizer: Tokenizer {
    let kind = "char"
    let chars: [Unicode.Scalar]
    let unknownId: Int?
    let bosTokenId: Int?
    let eosTokenId: Int?
    private let ids: [UInt32: Int]

    var vocabularySize: Int { chars.count }

    init(json: JSONNode) throws {
        guard try json.required("type").string() == "char" else {
            throw json.error("\"type\" must be \"char\"")
        }
        var chars: [Unicode.Scalar] = []
        var ids: [UInt32: Int] = [:]
        for node in try json.required("chars").array() {
            let scalars = Array(try node.string().unicodeScalars)
            guard scalars.count == 1 else { throw node.error("each entry must be exactly one Unicode scalar") }
            guard ids[scalars[0].value] == nil else {
                throw node.error("character \(Self.describe(scalars[0])) appears twice")
            }
            ids[scalars[0].value] = chars.count
            chars.append(scalars[0])
        }
        guard !chars.isEmpty else { throw json.error("\"chars\" is empty") }
        func optionalId(_ key: String) throws -> Int? {
            guard let node = json.optional(key) else { return nil }
            let id = try node.int()
            guard id >= 0, id < chars.count else { throw node.error("id \(id) is out of range (\(chars.count) chars)") }
            return id
        }
        self.chars = chars
        self.ids = ids
        unknownId = try optionalId("unk_id")
        bosTokenId = try optionalId("bos_id")
        eosTokenId = try optionalId("eos_id")
    }

    func encode(_ text: String, addSpecialTokens: Bool) throws -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(text.unicodeScalars.count + 1)
        if addSpecialTokens, let bosTokenId { result.append(bosTokenId) }
        for scalar in text.unicodeScalars {
            if let id = ids[scalar.value] {
                result.append(id)
            } else if let unknownId {
                result.append(unknownId)
            } else {
                throw EngineError("character \(Self.describe(scalar)) is not in the character vocabulary")
            }
        }
        return result
    }

    func decode(_ ids: [Int], skipSpecialTokens: Bool) throws -> String {
        var view = String.UnicodeScalarView()
        for id in ids {
            guard id >= 0, id < chars.count else {
                throw EngineError("token id \(id) is out of range (vocabulary size \(chars.count))")
            }
            if skipSpecialTokens && (id == bosTokenId || id == eosTokenId) { continue }
            view.append(chars[id])
        }
        return String(view)
    }

    func displayText(_ id: Int) -> String {
        guard id >= 0, id < chars.count else { return "<unknown id \(id)>" }
        return String(Character(chars[id]))
    }

    /// `U+0007` or `'x' (U+0078)`, for error messages that must stay on one line.
    private static func describe(_ scalar: Unicode.Scalar) -> String {
        var hex = String(scalar.value, radix: 16, uppercase: true)
        while hex.count < 4 { hex = "0" + hex }
        let code = "U+" + hex
        if scalar.properties.generalCategory == .control || UnicodeClasses.isWhitespace(scalar) { return code }
        return "'\(Character(scalar))' (\(code))"
    }
}
