/// Turns a stream of ids into text without ever emitting half a UTF-8 character:
/// `append(id)` returns the text that became final with this id (maybe ""), and `finish()`
/// returns what is still held back at the end of the stream. All the pieces together equal
/// `tokenizer.decode(allIds, skipSpecialTokens:)` exactly. Special tokens are skipped unless
/// asked for, as generated text is usually shown.
///
/// Text is held back while it may still change: a trailing U+FFFD (an unfinished UTF-8
/// sequence) and, for ByteFallback decoders, a trailing run of `<0xNN>` tokens (HF decodes a
/// run with one invalid byte as U+FFFD for every byte, so a valid prefix is not final).
/// Only a short window of recent ids is decoded each time; the window always starts with a
/// token that is already final, so first-token rules (SentencePiece's leading space) give
/// the same text as a full decode.
public struct StreamingDetokenizer: Sendable {
    private let tokenizer: any Tokenizer
    private let skipSpecialTokens: Bool
    /// Ids the tokenizer has no token for give no text instead of an error, as HF's decode
    /// treats them: a model's embedding often has more rows than its tokenizer has tokens,
    /// and sampling can pick one.
    private let skipsUnknownIds: Bool
    private var ids: [Int] = []
    /// Decoding starts at this id; earlier ids are final.
    private var windowStart = 0
    /// The text of `ids[windowStart...]` that has been emitted already.
    private var emitted: [Unicode.Scalar] = []
    private static let windowLength = 8

    public init(tokenizer: any Tokenizer, skipSpecialTokens: Bool = true, skipsUnknownIds: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
        self.skipsUnknownIds = skipsUnknownIds
    }

    public mutating func append(_ id: Int) throws -> String {
        if skipsUnknownIds, (try? tokenizer.decode([id], skipSpecialTokens: false)) == nil { return "" }
        ids.append(id)
        let window = ids[windowStart...]
        let open = (tokenizer as? HuggingFaceTokenizer)?
            .trailingIdsStillOpen(window, skipSpecialTokens: skipSpecialTokens) ?? 0
        var text = Array(try tokenizer.decode(Array(window.dropLast(open)), skipSpecialTokens: skipSpecialTokens).unicodeScalars)
        let complete = open == 0 && text.last != "\u{FFFD}"
        while text.last == "\u{FFFD}" { text.removeLast() }
        let piece = emit(text)

        // Once everything is final, restart the window at the last id. Its own text is the
        // baseline; a token that decodes to nothing (a skipped special token) cannot start a
        // window, as the token after it would then be decoded as the first one.
        if complete, ids.count - windowStart > Self.windowLength {
            let lastText = Array(try tokenizer.decode([id], skipSpecialTokens: skipSpecialTokens).unicodeScalars)
            if !lastText.isEmpty {
                windowStart = ids.count - 1
                emitted = lastText
            }
        }
        return piece
    }

    /// Everything still held back (an unfinished character at the end of the stream comes
    /// out as U+FFFD, as in `decode`).
    public mutating func finish() throws -> String {
        let text = Array(try tokenizer.decode(Array(ids[windowStart...]), skipSpecialTokens: skipSpecialTokens).unicodeScalars)
        return emit(text)
    }

    /// Emits the part of `text` beyond what was emitted for this window. (For the decoders
    /// supported here the text of a window only ever grows at its end.)
    private mutating func emit(_ text: [Unicode.Scalar]) -> String {
        guard text.count > emitted.count else { return "" }
        let piece = String(String.UnicodeScalarView(text[emitted.count...]))
        emitted = text
        return piece
    }
}
