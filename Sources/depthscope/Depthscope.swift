import ArgumentParser
import Engine
import Foundation

/// The root command. Subcommands live one per file (`*Command.swift`).
///
/// Errors: an `EngineError` (bad file, bad value, bad input) is printed once to stderr as
/// `depthscope: <message>` with exit status 1; usage errors are reported by ArgumentParser.
@main
struct Depthscope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "depthscope",
        abstract: "A workbench for language models whose depth changes per token.",
        version: EngineInfo.version,
        subcommands: [
            GenerateCommand.self,
            LogitsCommand.self,
            TokenizeCommand.self,
            DetokenizeCommand.self,
            InspectCommand.self,
            ArchsCommand.self,
            EvalCommand.self,
            WorkbenchCommand.self,
            ReplayCommand.self,
            BenchCommand.self,
        ],
        defaultSubcommand: WorkbenchCommand.self)

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as EngineError {
            StandardStreams.writeError("depthscope: \(error.message)\n")
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}
