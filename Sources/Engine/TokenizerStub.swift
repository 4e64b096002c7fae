// TEMPORARY (branch core only): a minimal char_vocab.json tokenizer so the CLI and the
// generation loop build and run before branch `tokenizers` lands. Delete this file when
// merging `tokenizers`, which provides the real `loadTokenizer` and `StreamingDetokenizer`.
import Foundation

struct StubCharTokenizer: Tokenizer {
    let chars: [String]
    var kind: String { "char" }
    var vocabularySize: Int { chars.count }
    var bosTokenId: Int? { nil }
    var eosTokenId: Int? { nil }

    func encode(_ text: String, addSpecialTokens: Bool) throws -> [Int] {
        try text.unicodeScalars.map { scalar in
            guard let id = chars.firstIndex(of: String(scalar)) else {
                throw EngineError("character U+\(String(scalar.value, radix: 16, uppercase: true)) is not in the vocabulary")
            }
            return id
        }
    }

    func decode(_ ids: [Int], skipSpecialTokens: Bool) throws -> String {
        try ids.map { id in
            guard id >= 0, id < chars.count else { throw EngineError("token id \(id) is out of range") }
            return chars[id]
        }.joined()
    }

    func displayText(_ id: Int) -> String { id >= 0 && id < chars.count ? chars[id] : "" }
}

public func loadTokenizer(folder: String) throws -> any Tokenizer {
    try loadTokenizer(file: (folder as NSString).appendingPathComponent("char_vocab.json"))
}

public func loadTokenizer(file: String) throws -> any Tokenizer {
    guard let data = FileManager.default.contents(atPath: file) else { throw EngineError("\(file): no such file") }
    guard let chars = try JSONValue.parse(data, file: file)["chars"]?.arrayValue?.compactMap(\.stringValue) else {
        throw EngineError("\(file): no \"chars\" list")
    }
    return StubCharTokenizer(chars: chars)
}

public struct StreamingDetokenizer {
    let tokenizer: any Tokenizer
    public init(tokenizer: any Tokenizer) { self.tokenizer = tokenizer }
    public mutating func append(_ id: Int) throws -> String { try tokenizer.decode([id], skipSpecialTokens: true) }
}
