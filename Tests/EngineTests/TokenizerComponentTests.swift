import Foundation
import Testing

@testable import Engine

/// Pre-tokenizers, normalizers and the regex engine, each compared with what HF `tokenizers`
/// gives for the same JSON configuration (fixtures from training/make_tokenizer_fixtures.py).
@Suite struct TokenizerComponentTests {
    private struct PreTokenizerExpectations: Decodable {
        struct Config: Decodable { let pieces: [String: [String]] }
        let samples: [String]
        let configs: [Config]
    }

    private struct NormalizerExpectations: Decodable {
        struct Config: Decodable { let normalized: [String] }
        let samples: [String]
        let configs: [Config]
    }

    private struct DecoderExpectations: Decodable {
        struct Config: Decodable { let decoded: [String] }
        let tokenLists: [[String]]
        let configs: [Config]
    }

    /// The JSON configurations, read with the reader the tokenizer uses.
    private func configNodes(_ file: String, key: String) throws -> [JSONNode] {
        let root = try readTokenizerJSON(TokenizerFixtures.file(file))
        return try root.required("configs").array().map { try $0.required(key) }
    }

    @Test func preTokenizersSplitExactlyAsHuggingFace() throws {
        let expected = try TokenizerFixtures.decode(PreTokenizerExpectations.self, from: TokenizerFixtures.file("pretokenizers.json"))
        let nodes = try configNodes("pretokenizers.json", key: "pre_tokenizer")
        #expect(nodes.count == expected.configs.count)
        for (node, config) in zip(nodes, expected.configs) {
            let preTokenizer = try PreTokenizer(json: node)
            for (index, pieces) in config.pieces {
                let sample = expected.samples[try #require(Int(index))]
                let input = TextPiece(scalars: Array(sample.unicodeScalars), startsAtTextStart: true)
                let actual = try preTokenizer.apply([input]).map { String(String.UnicodeScalarView($0.scalars)) }
                let label = "\(node.value) on \(sample.debugDescription)"
                #expect(actual.count == pieces.count, "\(label): \(actual) vs \(pieces)")
                for (a, b) in zip(actual, pieces) { expectSameText(a, b, label) }
            }
        }
    }

    @Test func normalizersRewriteExactlyAsHuggingFace() throws {
        let expected = try TokenizerFixtures.decode(NormalizerExpectations.self, from: TokenizerFixtures.file("normalizers.json"))
        let nodes = try configNodes("normalizers.json", key: "normalizer")
        #expect(nodes.count == expected.configs.count)
        for (node, config) in zip(nodes, expected.configs) {
            let normalizer = try Normalizer(json: node)
            for (sample, normalized) in zip(expected.samples, config.normalized) {
                let actual = try normalizer.apply(to: Array(sample.unicodeScalars))
                expectSameText(String(String.UnicodeScalarView(actual)), normalized, "\(node.value) on \(sample.debugDescription)")
            }
        }
    }

    @Test func decodersJoinTokensExactlyAsHuggingFace() throws {
        let expected = try TokenizerFixtures.decode(DecoderExpectations.self, from: TokenizerFixtures.file("decoders.json"))
        let nodes = try configNodes("decoders.json", key: "decoder")
        #expect(nodes.count == expected.configs.count)
        for (node, config) in zip(nodes, expected.configs) {
            let decoder = try TokenDecoder(json: node)
            for (tokens, decoded) in zip(expected.tokenLists, config.decoded) {
                expectSameText(try decoder.decodeChain(tokens).joined(), decoded, "\(node.value) on \(tokens)")
            }
        }
    }

    /// `\p{L}`, `\s`, `(?i:s)`, ... match the same scalars as in Oniguruma, over all of Unicode.
    @Test func unicodeClassesMatchOniguruma() throws {
        struct Classes: Decodable { let classes: [String: [[UInt32]]] }
        let expected = try TokenizerFixtures.decode(Classes.self, from: TokenizerFixtures.file("unicode_classes.json"))
        #expect(expected.classes.count >= 10)
        let everyScalar = (0...0x10FFFF).compactMap(Unicode.Scalar.init(_:) as (UInt32) -> Unicode.Scalar?)
        for (pattern, ranges) in expected.classes {
            let regex = try TokenizerRegex(pattern)
            let matched = try regex.matches(in: everyScalar).map { everyScalar[$0.lowerBound].value }
            var expectedScalars: [UInt32] = []
            for range in ranges { expectedScalars.append(contentsOf: range[0]...range[1]) }
            #expect(matched == expectedScalars, "\(pattern): \(matched.count) scalars vs \(expectedScalars.count)")
        }
    }

    /// The Digits pre-tokenizer counts exactly the scalars as numeric that HF does (Rust's
    /// `char::is_numeric`), over all of Unicode.
    @Test func digitsAreNumericExactlyAsInHuggingFace() throws {
        struct Numeric: Decodable { let digitsIsNumeric: [[UInt32]] }
        let expected = try TokenizerFixtures.decode(Numeric.self, from: TokenizerFixtures.file("unicode_classes.json"))
        var expectedScalars: [UInt32] = []
        for range in expected.digitsIsNumeric { expectedScalars.append(contentsOf: range[0]...range[1]) }
        #expect(expectedScalars.count > 1800)
        let numeric = (0...0x10FFFF).compactMap(Unicode.Scalar.init(_:) as (UInt32) -> Unicode.Scalar?)
            .filter(Digits.isNumeric).map(\.value)
        #expect(numeric == expectedScalars, "\(numeric.count) scalars vs \(expectedScalars.count)")
    }

    @Test func regexSemantics() throws {
        func pieces(_ pattern: String, _ text: String) throws -> [String] {
            let scalars = Array(text.unicodeScalars)
            return try TokenizerRegex(pattern).matches(in: scalars).map { String(String.UnicodeScalarView(scalars[$0])) }
        }
        // Ordered alternation (leftmost-first, not longest).
        #expect(try pieces("a|ab", "ab") == ["a"])
        // Greedy vs lazy.
        #expect(try pieces("a+", "aaa") == ["aaa"])
        #expect(try pieces("a+?", "aaa") == ["a", "a", "a"])
        #expect(try pieces("a{2,3}", "aaaaaaa") == ["aaa", "aaa"])
        // Lookahead gives back one space before a word, as GPT-2's `\s+(?!\S)`.
        #expect(try pieces(#"\s+(?!\S)|\s+"#, "a   b") == ["  ", " "])
        // Empty matches: none right after a match, as Oniguruma's find_iter.
        #expect(try pieces("a*", "baa") == ["", "aa"])
        // `(?i)` reaches to the end of the group, later alternatives included: `x(?i:a|b)`.
        #expect(try pieces("x(?i)a|b", "xAB b xb xa") == ["xA", "xb", "xa"])
        // Scalars, not grapheme clusters: "\r\n" is two scalars, an emoji sequence several.
        #expect(try pieces(".", "\r\n") == ["\r"])
        #expect(try pieces(#"[^\s]"#, "👨‍👩") == ["👨", "\u{200D}", "👩"])
        #expect(try pieces(#"\x{1F600}|\u00e9|\x41"#, "😀éA") == ["😀", "é", "A"])
        #expect(try pieces("{braces}", "{braces}") == ["{braces}"])
        // Word boundaries with Oniguruma's word characters (letters, marks, digits, "_", and ²).
        #expect(try pieces(#"\bx"#, "x ax ²x _x éx -x") == ["x", "x"])  // the first and the last
        #expect(try pieces(#"\B."#, "ab c") == ["b"])
        #expect(try pieces(#"\W\B"#, "a. .") == [".", " ", "."])  // the text's end is not a word character
        #expect(try pieces(#"\w+"#, "a_1 é٣ x\u{301} \u{200D}") == ["a_1", "é٣", "x\u{301}"])
    }

    @Test func regexRefusesWhatItCannotMatchExactly() {
        for pattern in [#"\Gfoo"#, #"[\b]"#, #"\h"#, #"(?<=a)b"#, #"(\w)\1"#, "a++", "[[a]]", "[a&&b]", #"\p{Han}"#,
                        "(a*)*", "(", "a)", "[a", "*a", "(?x)a", "a{5,2}", String(repeating: "(", count: 5000),
                        String(repeating: "(?i)a", count: 5000), "a" + String(repeating: "?", count: 5000),
                        "(((a{1000}){1000}){1000})"] {
            expectOneLineError(containing: ["regex"]) { _ = try TokenizerRegex(pattern) }
        }
    }

    @Test func byteLevelAlphabetIsGPT2s() {
        #expect(ByteLevel.scalarForByte[0x20] == "\u{120}")  // "Ġ"
        #expect(ByteLevel.scalarForByte[0x0A] == "\u{10A}")  // "Ċ"
        #expect(ByteLevel.scalarForByte[0x41] == "A")
        #expect(ByteLevel.scalarForByte[0xAD] == "\u{143}")  // soft hyphen is not printable
        #expect(Set(ByteLevel.scalarForByte.map(\.value)).count == 256)
        #expect(ByteLevel.bytes(of: "\u{120}h\u{C3}\u{A9}") == [0x20, 0x68, 0xC3, 0xA9])
    }

    @Test func exactJSONKeepsCanonicallyEquivalentKeysApart() throws {
        let root = JSONNode(try ExactJSONParser.parse(Array(#"{"\u00e9": 1, "e\u0301": 2, "n": [1.5e2, -3, true, null]}"#.utf8)))
        let members = try root.members()
        #expect(members.count == 3)
        #expect(try root["\u{E9}"]?.int() == 1)
        #expect(try root["e\u{301}"]?.int() == 2)
        let list = try root.required("n").array()
        #expect(try list[0].double() == 150)
        #expect(try list[1].int() == -3)
        #expect(try list[2].bool())
        #expect(list[3].isNull)
        for bad in ["", "{", #"{"a" 1}"#, "[1,]", #""\ud800""#, "01x", "{\"a\":1} 2", "\"\u{1}\""] {
            expectOneLineError(containing: ["not valid JSON", "line 1"]) { _ = try ExactJSONParser.parse(Array(bad.utf8)) }
        }
    }
}
