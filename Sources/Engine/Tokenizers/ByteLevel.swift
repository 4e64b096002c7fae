/// GPT-2's byte-level alphabet: every byte is shown as one printable scalar, so that BPE can
/// work on bytes while vocabularies stay readable text ("Ġ" is the byte 0x20).
enum ByteLevel {
    /// The scalar that stands for each byte: printable Latin-1 bytes stand for themselves,
    /// the others get U+0100, U+0101, ... in byte order.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            let value = printable ? UInt32(byte) : next
            if !printable { next += 1 }
            table[byte] = Unicode.Scalar(value) ?? " "
        }
        return table
    }()

    static let byteForScalar: [UInt32: UInt8] = {
        var table: [UInt32: UInt8] = [:]
        for (byte, scalar) in scalarForByte.enumerated() { table[scalar.value] = UInt8(byte) }
        return table
    }()

    /// The GPT-2 pre-tokenization pattern (ByteLevel with `use_regex: true`).
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    /// Text -> byte-level scalars (each UTF-8 byte becomes one scalar).
    static func encode(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(scalars.count)
        for scalar in scalars {
            if scalar.value < 0x80 {
                result.append(scalarForByte[Int(scalar.value)])
            } else {
                UTF8.encode(scalar) { result.append(scalarForByte[Int($0)]) }
            }
        }
        return result
    }

    /// The bytes a token stands for, as HF's ByteLevel decoder reads it: when any scalar of
    /// the token is outside the byte alphabet, the token's own UTF-8 bytes are used instead.
    static func bytes(of token: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = byteForScalar[scalar.value] else { return Array(token.utf8) }
            bytes.append(byte)
        }
        return bytes
    }
}
