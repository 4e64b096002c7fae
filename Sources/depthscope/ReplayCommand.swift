import ArgumentParser
import Engine
import Foundation
import Workbench

/// `depthscope replay trace.jsonl [more.jsonl ...]`: saved traces in the workbench.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Play saved traces (JSON Lines) in the workbench: space pauses, n and N step forward and back.",
        discussion: """
            Each file is one recording, offered as an architecture named after the file: `a` or \
            `:arch NAME` switches between them and `c` / `--compare NAME` shows two side by side. \
            Playback runs at a fixed pace, so a demo never depends on the machine's speed.
            """)

    @Argument(help: "Trace files written by `depthscope generate --trace` or `:save`.")
    var traces: [String]

    @Option(help: "Generated tokens per second while playing.")
    var speed: Double = 20

    @Option(help: "Start in A/B compare against this recording (a file name without .jsonl).")
    var compare: String?

    @OptionGroup var display: WorkbenchDisplayOptions

    func run() throws {
        var options = try display.workbenchOptions()
        let engine = try ReplayEngine.load(paths: traces, tokensPerSecond: speed)
        if let compare {
            guard engine.recordings.contains(where: { $0.name == compare }) else {
                throw EngineError("--compare \(compare): no such recording (have: "
                    + engine.recordings.map(\.name).joined(separator: ", ") + ")")
            }
            options.compareArchitecture = compare
        }
        try exitWith(try WorkbenchApp.run(engine: engine, settings: engine.initialSettings, options: options))
    }
}
