import Foundation
import Testing

@testable import Engine

/// Bad tokenizer files and bad ids: one line naming the file or value, never a crash.
@Suite struct TokenizerErrorTests {
    /// A tokenizer.json around the given pieces (a two-token BPE by default).
    private func tokenizerJSON(model: String = #"{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}"#,
                               normalizer: String = "null", preTokenizer: String = "null",
                               postProcessor: String = "null", decoder: String = "null",
                               addedTokens: String = "[]") -> String {
        """
        {"version": "1.0", "truncation": null, "padding": null, "added_tokens": \(addedTokens),
         "normalizer": \(normalizer), "pre_tokenizer": \(preTokenizer), "post_processor": \(postProcessor),
         "decoder": \(decoder), "model": \(model)}
        """
    }

    @Test func missingFilesAndFolders() throws {
        expectOneLineError(containing: ["/no/such/folder", "no such folder"]) {
            _ = try loadTokenizer(folder: "/no/such/folder")
        }
        expectOneLineError(containing: ["/no/such/tokenizer.json", "no such file"]) {
            _ = try loadTokenizer(file: "/no/such/tokenizer.json")
        }
        let scratch = try TokenizerScratchFolder()
        expectOneLineError(containing: [scratch.path, "no tokenizer.json or char_vocab.json"]) {
            _ = try loadTokenizer(folder: scratch.path)
        }
        expectOneLineError(containing: [scratch.path, "is a folder"]) { _ = try loadTokenizer(file: scratch.path) }
        let file = try scratch.write("plain.txt", "x")
        expectOneLineError(containing: [file, "not a folder"]) { _ = try loadTokenizer(folder: file) }
    }

    @Test func filesThatAreNotJSON() throws {
        let scratch = try TokenizerScratchFolder()
        let cases = [
            ("empty.json", "", "unexpected end of file"),
            ("text.json", "hello", "unexpected character"),
            ("truncated.json", String(tokenizerJSON().prefix(90)), "line 2"),
            ("trailing.json", tokenizerJSON() + "}", "after the JSON value"),
        ]
        for (name, text, problem) in cases {
            let file = try scratch.write(name, text)
            expectOneLineError(containing: [file, "not valid JSON", problem]) { _ = try loadTokenizer(file: file) }
        }
        let real = try String(contentsOfFile: TokenizerFixtures.folder("llama3") + "/tokenizer.json", encoding: .utf8)
        let halved = try scratch.write("halved.json", String(real.prefix(real.count / 2)))
        expectOneLineError(containing: [halved, "not valid JSON"]) { _ = try loadTokenizer(file: halved) }
        let other = try scratch.write("other.json", #"{"hello": "world"}"#)
        expectOneLineError(containing: [other, "not a tokenizer.json"]) { _ = try loadTokenizer(file: other) }
    }

    @Test func unsupportedModelsAndComponentsAreNamed() throws {
        let scratch = try TokenizerScratchFolder()
        let cases: [(String, String)] = [
            (tokenizerJSON(model: #"{"type": "WordPiece", "vocab": {"a": 0}, "unk_token": "[UNK]"}"#), "unsupported model type 'WordPiece'"),
            (tokenizerJSON(model: #"{"type": "Unigram", "vocab": [["a", -1.0]], "unk_id": 0}"#), "unsupported model type 'Unigram'"),
            (tokenizerJSON(model: #"{"type": "WordLevel", "vocab": {"a": 0}}"#), "unsupported model type 'WordLevel'"),
            (tokenizerJSON(normalizer: #"{"type": "BertNormalizer"}"#), "unsupported normalizer type 'BertNormalizer'"),
            (tokenizerJSON(preTokenizer: #"{"type": "Sequence", "pretokenizers": [{"type": "Punctuation"}]}"#),
             "pre_tokenizer.pretokenizers[0]: unsupported pre-tokenizer type 'Punctuation'"),
            (tokenizerJSON(preTokenizer: #"{"type": "Digits", "individual_digits": "yes"}"#), "individual_digits"),
            (tokenizerJSON(postProcessor: #"{"type": "Fancy"}"#), "unsupported post-processor type 'Fancy'"),
            (tokenizerJSON(decoder: ###"{"type": "WordPiece", "prefix": "##"}"###), "unsupported decoder type 'WordPiece'"),
            (tokenizerJSON(preTokenizer: #"{"type": "Split", "pattern": {"Regex": "\\h+"}, "behavior": "Isolated"}"#),
             #"pre_tokenizer.pattern.Regex: regex "\\h+": unsupported escape"#),
            (tokenizerJSON(preTokenizer: #"{"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Sideways"}"#),
             "unknown split behavior 'Sideways'"),
            (tokenizerJSON(model: #"{"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}"#),
             "model.merges[0]: merge token 'b' is not in the vocabulary"),
            (tokenizerJSON(model: #"{"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}"#),
             "merged token 'ab' is not in the vocabulary"),
            (tokenizerJSON(model: #"{"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b c"]}"#),
             "model.merges[0]: a merge must be two tokens"),
            (tokenizerJSON(model: #"{"type": "BPE", "merges": []}"#), "model: missing \"vocab\""),
            (tokenizerJSON(model: #"{"type": "BPE", "vocab": {"a": "zero"}, "merges": []}"#), "model.vocab.a: expected an integer"),
            (tokenizerJSON(model: #"{"type": "BPE", "vocab": {"a": 0}, "merges": [], "dropout": 0.1}"#), "dropout"),
            (tokenizerJSON(model: #"{"type": "BPE", "vocab": {"a": 0, "b": 999999999}, "merges": []}"#),
             "model.vocab.b: token id 999999999 is out of range"),
            (tokenizerJSON(addedTokens: #"[{"id": 7, "content": "a", "special": true}]"#),
             "added token 'a' has id 7 but the vocabulary says 0"),
        ]
        for (index, (json, problem)) in cases.enumerated() {
            let file = try scratch.write("tokenizer\(index).json", json)
            expectOneLineError(containing: [file, problem]) { _ = try loadTokenizer(file: file) }
        }
    }

    @Test func brokenTokenizerConfigIsNamed() throws {
        let scratch = try TokenizerScratchFolder()
        try scratch.write("tokenizer.json", tokenizerJSON())
        let config = try scratch.write("tokenizer_config.json", #"{"bos_token": {"no_content": 1}}"#)
        expectOneLineError(containing: [config, "bos_token", "content"]) { _ = try loadTokenizer(folder: scratch.path) }
        try scratch.write("tokenizer_config.json", #"{"bos_token": "b", "eos_token": {"content": "ab"}}"#)
        let tokenizer = try loadTokenizer(folder: scratch.path)
        #expect(tokenizer.bosTokenId == 1)
        #expect(tokenizer.eosTokenId == 2)
    }

    @Test func idsOutOfRangeAreNamed() throws {
        for name in ["gpt2", "llama2"] {
            let tokenizer = try TokenizerFixtures.tokenizer(name)
            let size = tokenizer.vocabularySize
            expectOneLineError(containing: ["token id \(size)", "out of range"]) {
                _ = try tokenizer.decode([1, size], skipSpecialTokens: false)
            }
            expectOneLineError(containing: ["token id -1"]) { _ = try tokenizer.decode([-1], skipSpecialTokens: true) }
            var stream = StreamingDetokenizer(tokenizer: tokenizer)
            expectOneLineError(containing: ["token id 99999999"]) { _ = try stream.append(99_999_999) }
        }
    }

    @Test func unknownTokenMissingFromTheVocabularyIsNamedWhenNeeded() throws {
        let scratch = try TokenizerScratchFolder()
        let file = try scratch.write("tokenizer.json", tokenizerJSON(
            model: #"{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"], "unk_token": "<unk>"}"#))
        let tokenizer = try loadTokenizer(file: file)
        #expect(try tokenizer.encode("abba", addSpecialTokens: true) == [2, 1, 0])
        expectOneLineError(containing: ["unk_token '<unk>'", "not in the vocabulary"]) {
            _ = try tokenizer.encode("abc", addSpecialTokens: false)
        }
    }

    /// Without an unk token or byte fallback, HF drops characters it cannot encode (and the
    /// neighbours of a dropped character can then merge).
    @Test func charactersWithoutAnyTokenAreDroppedAsInHuggingFace() throws {
        let scratch = try TokenizerScratchFolder()
        let file = try scratch.write("tokenizer.json", tokenizerJSON())
        let tokenizer = try loadTokenizer(file: file)
        #expect(try tokenizer.encode("a?b", addSpecialTokens: false) == [2])
        #expect(try tokenizer.encode("?", addSpecialTokens: false) == [])
    }
}
