import Foundation
import Testing

@testable import Engine

/// `--quantize`: matrices converted as they load are the same as converting the loaded model,
/// the adaptive-depth units keep their precision, and the command line takes the option.
@Suite struct QuantiseAtLoadTests {
    @Test func convertingAsTheMatricesLoadEqualsConvertingTheModel() throws {
        let folder = Fixtures.model("llama3")
        let atLoad = try DepthModel(folder: folder, quantize: .q8_0).model
        let afterwards = try Model(folder: folder).converted(to: .q8_0)
        Self.expectConverted(atLoad, to: .q8_0)
        let tokens = [1, 17, 42, 5, 88, 3]
        let first = try vanillaRunner(atLoad, capacity: tokens.count), second = try vanillaRunner(afterwards, capacity: tokens.count)
        for (position, token) in tokens.enumerated() {
            #expect(try first.run(token: token, position: position) == second.run(token: token, position: position))
        }
    }

    /// Every matrix whose rows the format can block is in it; the others (48 columns for
    /// blocks of 32) stay as stored, as llama.cpp's quantiser leaves them.
    static func expectConverted(_ model: Model, to format: WeightFormat) {
        #expect(model.matrices.contains { $0.format == format })
        for matrix in model.matrices {
            #expect(matrix.format == (format.fits(columns: matrix.columns) ? format : .f32), "\(matrix.name)")
        }
    }

    @Test func routersKeepTheirPrecision() throws {
        let model = try DepthModel(folder: ArchFixtures.modelFolder("mor_expert"), quantize: .q8_0)
        Self.expectConverted(model.model, to: .q8_0)
        #expect(!model.weights.expertRouters.isEmpty)
        #expect(model.weights.expertRouters.allSatisfy { $0.weight.format == .f32 })
    }

    @Test func theCommandLineTakesTheOption() throws {
        let folder = Fixtures.model("llama3")
        let quantised = try Depthscope.run(["logits", "--model", folder, "--tokens", "1,2,3", "--quantize", "Q8_0"])
        let plain = try Depthscope.run(["logits", "--model", folder, "--tokens", "1,2,3"])
        #expect(quantised.status == 0, "\(quantised.stderr)")
        #expect(quantised.stdout != plain.stdout, "q8_0 weights give (slightly) different logits")
        let bad = try Depthscope.run(["generate", "--model", folder, "--prompt", "a", "--quantize", "q3"])
        #expect(bad.exitedNormally && bad.status != 0)
        #expect(bad.stderr.contains("--quantize q3: unknown weight format (have: f32, f16, bf16, q8_0"))
    }
}
