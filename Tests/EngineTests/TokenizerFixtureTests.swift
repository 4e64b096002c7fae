import Testing

@testable import Engine

/// Ids and text compared exactly with what HF `tokenizers` gave for the same tokenizer.json.
@Suite struct TokenizerFixtureTests {
    @Test(arguments: TokenizerFixtures.huggingFaceNames)
    func encodesExactlyAsHuggingFace(_ name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        for expected in try TokenizerExpectations.load(name).cases {
            let label = "\(name) \(expected.text.prefix(40).debugDescription)"
            #expect(try tokenizer.encode(expected.text, addSpecialTokens: false) == expected.ids, "\(label)")
            #expect(try tokenizer.encode(expected.text, addSpecialTokens: true) == expected.idsWithSpecial, "\(label) with special tokens")
        }
    }

    @Test(arguments: TokenizerFixtures.huggingFaceNames)
    func decodesExactlyAsHuggingFace(_ name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        let expectations = try TokenizerExpectations.load(name)
        for expected in expectations.cases {
            let label = "\(name) \(expected.text.prefix(40).debugDescription)"
            expectSameText(try tokenizer.decode(expected.idsWithSpecial, skipSpecialTokens: false),
                           expected.decoded ?? expected.text, label)
            expectSameText(try tokenizer.decode(expected.idsWithSpecial, skipSpecialTokens: true),
                           expected.decodedSkipSpecial ?? expected.text, "\(label) skipping special tokens")
        }
        for expected in expectations.decodeCases {
            expectSameText(try tokenizer.decode(expected.ids, skipSpecialTokens: false), expected.text, "\(name) \(expected.ids)")
            expectSameText(try tokenizer.decode(expected.ids, skipSpecialTokens: true), expected.textSkipSpecial,
                           "\(name) \(expected.ids) skipping special tokens")
        }
    }

    /// The pieces a streaming detokenizer emits add up to the full decode, on every case.
    @Test(arguments: TokenizerFixtures.huggingFaceNames)
    func streamingAddsUpToTheFullDecode(_ name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        let expectations = try TokenizerExpectations.load(name)
        var sequences = expectations.cases.map(\.idsWithSpecial)
        sequences += expectations.decodeCases.map(\.ids)
        for ids in sequences {
            for skip in [false, true] {
                var stream = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: skip)
                var text = ""
                for id in ids { text += try stream.append(id) }
                text += try stream.finish()
                expectSameText(text, try tokenizer.decode(ids, skipSpecialTokens: skip), "\(name) stream \(ids.prefix(12))")
            }
        }
    }

    @Test func reportsFamilyAndSpecialTokens() throws {
        let gpt2 = try TokenizerFixtures.tokenizer("gpt2")
        #expect(gpt2.kind == "bpe-byte-level")
        #expect(gpt2.eosTokenId == (try gpt2.encode("<|endoftext|>", addSpecialTokens: false)).first)
        #expect(gpt2.bosTokenId == nil)
        #expect(gpt2.vocabularySize == 1004)

        let llama3 = try TokenizerFixtures.tokenizer("llama3")
        #expect(llama3.kind == "bpe-byte-level")
        #expect(llama3.bosTokenId == (try llama3.encode("<|begin_of_text|>", addSpecialTokens: false)).first)

        let llama2 = try TokenizerFixtures.tokenizer("llama2")
        #expect(llama2.kind == "bpe-sentencepiece")
        #expect(llama2.bosTokenId == 1)
        #expect(llama2.eosTokenId == 2)

        let mistral = try TokenizerFixtures.tokenizer("mistral")
        #expect(mistral.kind == "bpe-sentencepiece")
    }

    /// The family fixtures: their kind, vocabulary size and the BOS / EOS tokens the engine finds
    /// in them (without a tokenizer_config.json).
    @Test func familyFixturesReportTheirSpecialTokens() throws {
        func check(_ name: String, kind: String, size: Int, bos: String?, eos: String?,
                   sourceLocation: SourceLocation = #_sourceLocation) throws {
            let tokenizer = try #require(try TokenizerFixtures.tokenizer(name) as? HuggingFaceTokenizer)
            func id(_ text: String?) throws -> Int? {
                guard let text else { return nil }
                let ids = try tokenizer.encode(text, addSpecialTokens: false)
                #expect(ids.count == 1, "\(name): \(text) is not one token", sourceLocation: sourceLocation)
                return ids.first
            }
            #expect(tokenizer.kind == kind, "\(name)", sourceLocation: sourceLocation)
            #expect(tokenizer.vocabularySize == size, "\(name)", sourceLocation: sourceLocation)
            #expect(tokenizer.bosTokenId == (try id(bos)), "\(name) BOS", sourceLocation: sourceLocation)
            #expect(tokenizer.eosTokenId == (try id(eos)), "\(name) EOS", sourceLocation: sourceLocation)
        }
        try check("smollm2", kind: "bpe-byte-level", size: 706, bos: nil, eos: "<|endoftext|>")
        try check("qwen3", kind: "bpe-byte-level", size: 726, bos: nil, eos: "<|endoftext|>")
        try check("gemma2", kind: "bpe-sentencepiece", size: 700, bos: "<bos>", eos: "<eos>")
        try check("gemma3", kind: "bpe-sentencepiece", size: 721, bos: "<bos>", eos: "<eos>")
        try check("phi3", kind: "bpe-sentencepiece", size: 711, bos: "<s>", eos: "<|endoftext|>")  // "</s>" is not special
        try check("phi4-mini", kind: "bpe-byte-level", size: 718, bos: nil, eos: "<|endoftext|>")
        try check("huginn", kind: "bpe-byte-level", size: 714, bos: "<|begin_text|>", eos: "<|end_text|>")
    }

    /// A GGUF file holding the same vocabulary (tokenizer.ggml.pre "smollm" / "gpt-4o") tokenizes
    /// and decodes as the tokenizer.json does.
    @Test(arguments: ["smollm2", "phi4-mini"])
    func ggufVocabularyTokenizesAsTheTokenizerJSON(_ name: String) throws {
        let tokenizer = try loadTokenizer(file: TokenizerFixtures.folder(name) + "/tokenizer.gguf")
        #expect(tokenizer.kind == "bpe-byte-level")
        for expected in try TokenizerExpectations.load(name).cases {
            let label = "\(name).gguf \(expected.text.prefix(40).debugDescription)"
            #expect(try tokenizer.encode(expected.text, addSpecialTokens: false) == expected.ids, "\(label)")
            #expect(try tokenizer.encode(expected.text, addSpecialTokens: true) == expected.idsWithSpecial, "\(label)")
            expectSameText(try tokenizer.decode(expected.idsWithSpecial, skipSpecialTokens: false),
                           expected.decoded ?? expected.text, label)
        }
    }

    /// Llama 3 sets ignore_merges; its fixture has whole words the merges never build.
    @Test func ignoreMergesTakesWholeWordsFromTheVocabulary() throws {
        let tokenizer = try TokenizerFixtures.tokenizer("llama3") as? HuggingFaceTokenizer
        let hf = try #require(tokenizer)
        #expect(hf.model.ignoreMerges)
        let ids = try hf.encode(" ROMEO", addSpecialTokens: false)
        #expect(ids.count == 1)
        #expect(hf.displayText(ids[0]) == " ROMEO")
    }

    /// A token holding part of a character shows its bytes, not a replacement character.
    @Test func displayTextOfPartialCharacters() throws {
        let llama2 = try #require(try TokenizerFixtures.tokenizer("llama2") as? HuggingFaceTokenizer)
        let byteE4 = try #require(llama2.model.vocabulary[Array("<0xE4>".unicodeScalars)])
        #expect(llama2.displayText(byteE4) == "<0xE4>")
        #expect(llama2.displayText(1) == "<s>")
        #expect(llama2.displayText(1_000_000) == "<unknown id 1000000>")

        let gpt2 = try #require(try TokenizerFixtures.tokenizer("gpt2") as? HuggingFaceTokenizer)
        let byteC3 = try #require(gpt2.model.vocabulary[["\u{C3}"]])  // "Ã" stands for the byte 0xC3
        #expect(gpt2.displayText(byteC3) == "<0xC3>")
        let spaceThe = try #require(gpt2.model.vocabulary[Array("\u{120}the".unicodeScalars)])
        #expect(gpt2.displayText(spaceThe) == " the")
    }
}
