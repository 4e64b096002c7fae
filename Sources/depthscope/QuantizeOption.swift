import ArgumentParser
import Engine

/// `--quantize TYPE`: the model's weight matrices converted to one weight format as they
/// load (a safetensors checkpoint or a GGUF file of any type), with the reference
/// quantisers llama.cpp uses when it has no importance matrix.
struct QuantizeOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(quantizeHelp, valueName: "TYPE"))
    var quantize: String?

    func validate() throws { _ = try format }

    /// The format named, or nil when the option is not given.
    var format: WeightFormat? {
        get throws {
            guard let quantize else { return nil }
            guard let format = WeightFormat(name: quantize) else {
                throw ValidationError("--quantize \(quantize): unknown weight format (have: \(weightFormatNames))")
            }
            return format
        }
    }
}

/// Every weight format's name, lowercased, for help and errors: "f32, f16, bf16, q8_0, ...".
let weightFormatNames = WeightFormat.allCases.map(\.description).joined(separator: ", ")

let quantizeHelp =
    "Convert the model's weight matrices to this format as it loads: \(weightFormatNames) (norms and adaptive-depth units keep their precision)."
