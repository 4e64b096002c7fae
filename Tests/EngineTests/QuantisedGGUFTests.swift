import Foundation
import Testing

@testable import Engine

/// Files quantised by llama.cpp's own quantiser (training/make_quant_fixtures.py): every
/// tensor dequantises to exactly what gguf-py's `gguf.quants.dequantize` gives, the engine
/// holds each tensor in its file's type, its logits are as near transformers-on-the-held-
/// weights as llama.cpp's are, and our quantiser writes llama.cpp's bytes.
@Suite struct QuantisedGGUFTests {
    static let folder = Fixtures.root.appendingPathComponent("quants")
    static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// The fixtures whose every type the engine holds as stored. A format's change adds its
    /// names here (pure files are named by their type, mixes by llama.cpp's file type).
    static let pureTypes = ["Q8_0"]
    static let mixes: [String] = []

    struct Expected: Decodable {
        struct Tensor: Decodable {
            let name: String
            let type: String
            let shape: [Int]
            let dequantized_fnv1a64: String
            let first_row: [Float]
        }
        let description: String
        let tokens: [Int]
        let tensors: [Tensor]
        /// transformers on exactly the weights the file holds (gguf-py dequantised).
        let reference: [[Float]]
        let llama_cpp: [[Float]]
    }

    static func expected(_ name: String) throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: folder.appendingPathComponent(name + ".json")))
    }

    /// FNV-1a 64 of the f32 values' little-endian bytes, as the script computes it.
    static func fnv1a64(_ values: [Float]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for value in values {
            var bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: &bits) { bytes in
                for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
            }
        }
        return String(hash, radix: 16).leftPadded(to: 16)
    }

    static func matrix(_ file: GGUFFile, _ tensor: Expected.Tensor) throws -> WeightMatrix {
        try GGUFSource(file: file).matrix(
            tensor.name, storedRows: tensor.shape[0], columns: tensor.shape[1], rows: nil, order: nil)
    }

    /// Every matrix row by row through the engine's dequantisation, against gguf-py's values
    /// bit for bit (a digest of the whole tensor and the first row in full).
    @Test(arguments: pureTypes + mixes)
    func tensorsDequantiseAsGGUFPyDoes(name: String) throws {
        let expected = try Self.expected(name)
        let file = try GGUFFile(path: Self.path(name + ".gguf"))
        for tensor in expected.tensors where tensor.shape[0] > 1 {
            let matrix = try Self.matrix(file, tensor)
            #expect(matrix.format.rawValue == tensor.type, "\(name): \(tensor.name) held as \(matrix.format.rawValue)")
            var values = [Float](repeating: 0, count: tensor.shape[0] * tensor.shape[1])
            values.withUnsafeMutableBufferPointer { out in
                for row in 0..<tensor.shape[0] { matrix.row(row, into: out.baseAddress! + row * tensor.shape[1]) }
            }
            #expect(Array(values[0..<tensor.shape[1]]) == tensor.first_row, "\(name): \(tensor.name) row 0")
            #expect(Self.fnv1a64(values) == tensor.dequantized_fnv1a64, "\(name): \(tensor.name)")
        }
    }

    /// The engine computes on the quantised weights as llama.cpp does (activations rounded to
    /// int8 in blocks), so exact math on the held weights (transformers) is off by that
    /// rounding; llama.cpp's own distance from it on the same file is the bound, with the
    /// 1.5x margin the Q8_0 tests use (GGUFTests) for rounding that differs in detail.
    @Test(arguments: pureTypes + mixes)
    func logitsAreAsNearExactMathAsLlamaCpps(name: String) throws {
        let expected = try Self.expected(name)
        let model = try Model(folder: Self.path(name + ".gguf"))
        let fileTypes = Set(expected.tensors.filter { $0.shape[0] > 1 }.map(\.type))
        #expect(Set(model.matrixDTypes) == fileTypes, "held quantised as stored")
        let worst = try GGUFTests.worstDifference(model, tokens: expected.tokens, against: expected.reference)
        let llamaCpp = GGUFTests.worstDifference(expected.llama_cpp, expected.reference)
        #expect(worst <= 1.5 * llamaCpp, "\(name): max |logit difference| \(worst), llama.cpp's \(llamaCpp)")
    }

    /// source.bin: token_embd.weight (32 x 256) then ffn_down's first 8 rows, in f32.
    static func sourceRows() throws -> (embedding: [Float], down: [Float]) {
        let data = try Data(contentsOf: folder.appendingPathComponent("source.bin"))
        let values = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        try #require(values.count == 40 * 256)
        return (Array(values[0..<(32 * 256)]), Array(values[(32 * 256)...]))
    }

    /// Our quantiser on the f32 rows gives the bytes llama.cpp wrote for them (no importance
    /// matrix: llama.cpp's reference quantisers).
    @Test(arguments: pureTypes)
    func quantisingGivesLlamaCppsBytes(name: String) throws {
        let file = try GGUFFile(path: Self.path(name + ".gguf"))
        let format = try #require(WeightFormat(name: name))
        let (embedding, down) = try Self.sourceRows()
        let columns = 256
        let rowBytes = format.byteCount(rows: 1, columns: columns)
        for (tensorName, rows) in [("token_embd.weight", embedding), ("blk.0.ffn_down.weight", down)] {
            let tensor = try #require(file.tensor(tensorName))
            let stored = file.bytes(of: tensor)
            for row in 0..<(rows.count / columns) {
                var ours = [UInt8](repeating: 0, count: rowBytes)
                rows.withUnsafeBufferPointer { source in
                    ours.withUnsafeMutableBytes { out in
                        format.traits.quantise(source.baseAddress! + row * columns, columns: columns, into: out.baseAddress!)
                    }
                }
                let theirs = Array(stored[(row * rowBytes)..<((row + 1) * rowBytes)])
                #expect(ours == theirs, "\(name): \(tensorName) row \(row)")
            }
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
