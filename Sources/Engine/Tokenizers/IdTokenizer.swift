/// Stands in for a tokenizer where a model has none (a benchmark's random checkpoint, a
/// GGUF file without a vocabulary): ids are shown as `<id>`, and text cannot be encoded.
public struct IdTokenizer: Tokenizer {
    public let vocabularySize: Int
    public var kind: String { "ids" }
    public var bosTokenId: Int? { nil }
    public var eosTokenId: Int? { nil }

    public init(vocabularySize: Int) {
        self.vocabularySize = vocabularySize
    }

    public func encode(_ text: String, addSpecialTokens: Bool) throws -> [Int] {
        throw EngineError("this model has no tokenizer: give token ids instead of text")
    }

    public func decode(_ ids: [Int], skipSpecialTokens: Bool) throws -> String {
        ids.map(displayText).joined()
    }

    public func displayText(_ id: Int) -> String { "<\(id)>" }
}
