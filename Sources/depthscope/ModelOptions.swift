import ArgumentParser
import Engine

/// `--model`: a model folder or GGUF file, the bare name of a model in models/, or a Hugging
/// Face repo id found offline in the HF cache (see ModelLocator).
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(modelHelp))
    var model: String

    /// The model folder this option names.
    func folder() throws -> String {
        try ModelLocator.resolve(model)
    }
}

/// What `--model` takes, for every command's help.
let modelHelp =
    "Model folder or .gguf file, a name in models/ (e.g. shakespeare-vanilla), or a Hugging Face repo id from the local HF cache: org/name[@revision][/FILE.gguf]."
