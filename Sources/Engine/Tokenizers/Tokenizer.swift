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

// Provided by the tokenizer implementation files (contract for the rest of the engine):
//
//   /// Loads `tokenizer.json` (HF format) or `char_vocab.json` from a model folder.
//   public func loadTokenizer(folder: String) throws -> any Tokenizer
//   /// Loads one tokenizer file: an HF `tokenizer.json` or a `char_vocab.json`.
//   public func loadTokenizer(file: String) throws -> any Tokenizer
//
//   /// Turns a stream of ids into text without ever emitting half a UTF-8 character:
//   /// `append(id)` returns the text that became complete with this id (maybe ""), `finish()`
//   /// what is still held back at the end; together they equal `decode(allIds, ...)`.
//   public struct StreamingDetokenizer {
//       init(tokenizer:, skipSpecialTokens: Bool = true)
//       mutating func append(_ id: Int) throws -> String
//       mutating func finish() throws -> String
//   }
//
// Character vocabulary format (`char_vocab.json`), for small character-level models:
//   {"type": "char", "chars": ["\n", " ", "!", ...], "unk_id": null, "bos_id": null, "eos_id": null}
// id i is chars[i]; every entry is exactly one Unicode scalar; text is split into Unicode
// scalars (not grapheme clusters: "\r\n" is two tokens); a scalar not in the vocabulary
// maps to unk_id, or is an error naming the character when unk_id is null.
