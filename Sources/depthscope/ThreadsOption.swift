import ArgumentParser
import Engine

/// `--threads N`: how many threads split each matrix product (default: every core).
struct ThreadsOption: ParsableArguments {
    @Option(name: .long, help: "Threads for the matrix products (default: every core).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    var count: Int { threads ?? RunSetup.defaultThreads }
}
