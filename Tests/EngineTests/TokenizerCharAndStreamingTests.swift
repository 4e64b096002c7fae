import Foundation
import Testing

@testable import Engine

@Suite struct CharTokenizerTests {
    private struct Expected: Decodable {
        struct Case: Decodable { let text: String; let ids: [Int] }
        let cases: [Case]
    }

    @Test func encodesCodePointsAsPythonDoes() throws {
        let tokenizer = try TokenizerFixtures.tokenizer("char")
        #expect(tokenizer.kind == "char")
        let expected = try TokenizerFixtures.decode(Expected.self, from: TokenizerFixtures.folder("char") + "/expected.json")
        #expect(!expected.cases.isEmpty)
        for item in expected.cases {
            #expect(try tokenizer.encode(item.text, addSpecialTokens: true) == item.ids)
            expectSameText(try tokenizer.decode(item.ids, skipSpecialTokens: false), item.text)
        }
    }

    @Test func scalarsNotGraphemeClusters() throws {
        let scratch = try TokenizerScratchFolder()
        let chars = ["\r", "\n", "e", "\u{301}", "\u{1F468}", "\u{200D}", "\u{1F469}", "?", "^"]
        let json = try JSONSerialization.data(withJSONObject: ["type": "char", "chars": chars, "unk_id": 7, "bos_id": 8])
        try json.write(to: URL(fileURLWithPath: scratch.path + "/char_vocab.json"))
        let tokenizer = try loadTokenizer(folder: scratch.path)
        #expect(tokenizer.vocabularySize == 9)
        #expect(tokenizer.bosTokenId == 8)
        #expect(try tokenizer.encode("\r\n", addSpecialTokens: false) == [0, 1])
        #expect(try tokenizer.encode("e\u{301}", addSpecialTokens: false) == [2, 3])
        #expect(try tokenizer.encode("\u{E9}", addSpecialTokens: false) == [7])  // composed é is not in the vocabulary
        #expect(try tokenizer.encode("\u{1F468}\u{200D}\u{1F469}", addSpecialTokens: true) == [8, 4, 5, 6])
        expectSameText(try tokenizer.decode([8, 2, 3, 0, 1], skipSpecialTokens: true), "e\u{301}\r\n")
        expectSameText(try tokenizer.decode([8, 2], skipSpecialTokens: false), "^e")
        #expect(tokenizer.displayText(1) == "\n")
        expectOneLineError(containing: ["token id 9", "out of range"]) { _ = try tokenizer.decode([9], skipSpecialTokens: false) }
    }

    @Test func badVocabulariesAndUnknownCharacters() throws {
        let scratch = try TokenizerScratchFolder()
        let cases = [
            (#"{"type": "char", "chars": ["a", "bc"]}"#, "chars[1]: each entry must be exactly one Unicode scalar"),
            (#"{"type": "char", "chars": ["a", "a"]}"#, "chars[1]: character 'a' (U+0061) appears twice"),
            (#"{"type": "char", "chars": ["a"], "unk_id": 3}"#, "unk_id: id 3 is out of range"),
            (#"{"type": "char", "chars": []}"#, "\"chars\" is empty"),
            (#"{"type": "char"}"#, "missing \"chars\""),
        ]
        for (index, (json, problem)) in cases.enumerated() {
            let file = try scratch.write("vocab\(index).json", json)
            expectOneLineError(containing: [file, problem]) { _ = try loadTokenizer(file: file) }
        }
        let tokenizer = try TokenizerFixtures.tokenizer("char")
        expectOneLineError(containing: ["'€' (U+20AC)", "not in the character vocabulary"]) {
            _ = try tokenizer.encode("a €", addSpecialTokens: false)
        }
        expectOneLineError(containing: ["U+0007"]) { _ = try tokenizer.encode("\u{7}", addSpecialTokens: false) }
    }
}

@Suite struct StreamingDetokenizerTests {
    /// Streams `ids` and returns the pieces (the last one from `finish()`).
    private func pieces(_ tokenizer: any Tokenizer, _ ids: [Int], skip: Bool = false) throws -> [String] {
        var stream = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: skip)
        var result = try ids.map { try stream.append($0) }
        result.append(try stream.finish())
        return result
    }

    /// On every fixture case whose text has no U+FFFD, no piece has one: a character split
    /// over several tokens comes out whole, with the token that completes it.
    @Test(arguments: TokenizerFixtures.huggingFaceNames)
    func neverEmitsHalfACharacter(_ name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        for expected in try TokenizerExpectations.load(name).cases {
            let full = try tokenizer.decode(expected.idsWithSpecial, skipSpecialTokens: false)
            guard !full.unicodeScalars.contains("\u{FFFD}") else { continue }
            let parts = try pieces(tokenizer, expected.idsWithSpecial)
            #expect(!parts.contains { $0.unicodeScalars.contains("\u{FFFD}") }, "\(name) \(expected.text.prefix(30).debugDescription)")
            expectSameText(parts.joined(), full)
        }
    }

    @Test func byteLevelEmojiComesOutWhole() throws {
        let gpt2 = try TokenizerFixtures.tokenizer("gpt2")
        let ids = try gpt2.encode("a😀", addSpecialTokens: false)
        #expect(ids.count >= 3)  // "a" and the emoji's four bytes in at least two tokens
        let parts = try pieces(gpt2, ids)
        #expect(parts.first == "a")
        #expect(parts.dropFirst().filter { !$0.isEmpty } == ["😀"])
    }

    /// HF decodes a run of byte tokens with an invalid byte as one U+FFFD per byte, so the
    /// valid "€" at the start of the run must not be emitted before the run ends.
    @Test func byteFallbackRunsWaitForTheirEnd() throws {
        let llama2 = try #require(try TokenizerFixtures.tokenizer("llama2") as? HuggingFaceTokenizer)
        func byte(_ name: String) throws -> Int { try #require(llama2.model.vocabulary[Array(name.unicodeScalars)]) }
        let euro = [try byte("<0xE2>"), try byte("<0x82>"), try byte("<0xAC>")]
        let valid = try pieces(llama2, euro + [try byte("▁a")])
        #expect(valid == ["", "", "", "€ a", ""])
        let invalid = try pieces(llama2, euro + [try byte("<0xFF>")])
        #expect(invalid == ["", "", "", "", "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"])
        expectSameText(invalid.joined(), try llama2.decode(euro + [try byte("<0xFF>")], skipSpecialTokens: false))
    }

    /// SentencePiece drops the leading space of the first token only; streaming agrees.
    @Test func sentencePieceLeadingSpace() throws {
        for name in ["llama2", "mistral", "metaspace-unk"] {
            let tokenizer = try TokenizerFixtures.tokenizer(name)
            for skip in [false, true] {
                let ids = try tokenizer.encode("Hello world, hello again and again and again", addSpecialTokens: true)
                let parts = try pieces(tokenizer, ids, skip: skip)
                expectSameText(parts.joined(), try tokenizer.decode(ids, skipSpecialTokens: skip), name)
                let text = parts.joined()
                #expect(text.hasPrefix(skip || name == "metaspace-unk" ? "Hello" : "<s> Hello"), "\(name): \(text.debugDescription)")
            }
        }
    }
}
