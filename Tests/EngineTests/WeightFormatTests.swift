import Foundation
import Testing

@testable import Engine

/// The registry of weight formats (Numerics/WeightFormat.swift): what each format declares
/// agrees with itself and with the files it loads from. Each format's kernels are checked
/// in PerformanceKernelTests; its loading end to end in GGUFTests and LogitsParityTests.
@Suite struct WeightFormatTests {
    /// Names are unique and parse back in any case; a format prints as its lowercased name
    /// and encodes as its name, as the enum it replaced did.
    @Test func namesParseBackAndEncodeAsNames() throws {
        let names = WeightFormat.allCases.map(\.rawValue)
        #expect(names == ["F32", "F16", "BF16", "Q8_0"])
        #expect(Set(WeightFormat.allCases).count == names.count)
        for format in WeightFormat.allCases {
            #expect(WeightFormat(name: format.rawValue.lowercased()) == format)
            #expect(WeightFormat(rawValue: format.rawValue) == format)
            #expect("\(format)" == format.rawValue.lowercased())
            let json = try JSONEncoder().encode([format])
            #expect(String(decoding: json, as: UTF8.self) == "[\"\(format.rawValue)\"]")
            #expect(try JSONDecoder().decode([WeightFormat].self, from: json) == [format])
        }
        #expect(WeightFormat(name: "q4_k") == nil)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([WeightFormat].self, from: Data("[\"Q4_K\"]".utf8)) }
    }

    /// A GGUF type or safetensors dtype loads into one format at most, and one taken as
    /// stored has exactly the format's row layout: as many weights per block, as many bytes.
    @Test func sourcesAgreeWithTheRowLayout() throws {
        var claimed: [UInt32] = []
        for format in WeightFormat.allCases {
            let traits = format.traits
            if let dtype = traits.safetensorsDType {
                #expect(WeightFormat(dtype) == format)
                #expect(traits.blockSize == 1 && traits.blockBytes == dtype.byteSize, "\(format) from \(dtype)")
            }
            for load in traits.ggufLoads {
                #expect(!claimed.contains(load.type.id), "\(load.type) loads into two formats")
                claimed.append(load.type.id)
                #expect(WeightFormat.loading(load.type)?.format == format)
                guard load.rewrite == nil else { continue }
                let layout = try #require(load.type.layout)
                #expect(layout.blockSize == traits.blockSize && layout.blockBytes == traits.blockBytes, "\(format) from \(load.type)")
            }
        }
        #expect(WeightFormat.ggufTypeNames == "F32, F16, BF16, Q8_0, Q4_0")
        #expect(WeightFormat.loading(GGMLType(id: 20)) == nil)  // IQ4_NL: no format reads it
        #expect(WeightFormat(TensorDType.i8) == nil)
    }

    /// Groups of rows sit one after another in the stored layout, where `storageBytes`
    /// says (what `WeightMatrix.converted(to:)` relies on), and a partial last group takes
    /// a whole group's bytes.
    @Test func storedLayoutHoldsWholeGroups() {
        for format in WeightFormat.allCases {
            let traits = format.traits
            let columns = 8 * traits.blockSize
            let group = traits.storageBytes(rows: traits.rowGroup, columns: columns)
            #expect(group >= format.byteCount(rows: traits.rowGroup, columns: columns), "\(format)")
            #expect(traits.storageBytes(rows: 3 * traits.rowGroup, columns: columns) == 3 * group, "\(format)")
            #expect(traits.storageBytes(rows: traits.rowGroup + 1, columns: columns) == 2 * group, "\(format)")
        }
    }
}
