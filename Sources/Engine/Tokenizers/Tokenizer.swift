/// Text <-> token ids, exactly as Hugging Face `tokenizers` does it for the formats we load.
///
/// Implementations: byte-level BPE (GPT-2, Llama 3, Qwen), SentencePiece-style BPE
/// (Llama 2, Mistral: Metaspace / Prepend+Replace, byte fallback) and a plain character
/// vocabulary for small character-level models. `loadTokenizer(folder:)` picks one.
public protocol Tokenizer: Sendable {
    /// Short name of the tokenizer family, e.g. "bpe-byte-level", "bpe-sentencepiece", "char".
    var kind: String { get }
    /// Number of ids (model vocabulary plus added tokens).
    var vocabularySize: Int { get }
    var bosTokenId: Int? { get }
    var eosTokenId: Int? { get }

    /// Encodes text. `addSpecialTokens` applies the post-processor (e.g. a BOS token),
    /// as `tokenizer.encode(text, add_special_tokens=...)` does in HF.
    func encode(_ text: String, addSpecialTokens: Bool) throws -> [Int]
    /// Decodes ids to text as HF `decode(ids, skip_special_tokens=...)` does.
    func decode(_ ids: [Int], skipSpecialTokens: Bool) throws -> String
    /// Text of one token for display (e.g. in a list of candidates); never fails.
    func displayText(_ id: Int) -> String
}
