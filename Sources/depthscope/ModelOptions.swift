import ArgumentParser
import Engine

/// `--model`: a model folder, or the bare name of a model in models/ (see ModelLocator).
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model folder, or the name of a model in models/ (e.g. shakespeare-vanilla).")
    var model: String

    /// The model folder this option names.
    func folder() throws -> String {
        try ModelLocator.resolve(model)
    }
}
