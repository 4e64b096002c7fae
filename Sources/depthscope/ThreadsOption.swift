import ArgumentParser
import Engine

/// `--threads N`: how many threads split each matrix product (default: every core, one for
/// the tiny demo models; see `RunSetup.threads`).
struct ThreadsOption: ParsableArguments {
    @Option(name: .long, help: "Threads for the matrix products (default: every core; one for a tiny model).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func count(for model: DepthModel) -> Int { RunSetup.threads(threads, for: model) }
}
