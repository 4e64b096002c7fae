import ArgumentParser
import Engine
import Foundation
import Workbench

/// How the workbench looks and reacts; shared by `workbench` and `replay`.
struct WorkbenchDisplayOptions: ParsableArguments {
    @Option(help: "Colour theme: a name from themes/ (default, light, colorblind, ansi16, gruvbox) or a .theme file.")
    var theme: String = "default"

    @Option(help: "Colours: auto, truecolor, 256, 16 or mono (auto reads COLORTERM and the terminal description).")
    var color: String = "auto"

    @Flag(name: .customLong("no-mouse"), help: "Ignore mouse clicks and the wheel.")
    var noMouse = false

    @Option(help: "Throughput sparkline: braille, block or ascii.")
    var sparkline: String = "braille"

    @Flag(help: "Start paused (space runs, n steps).")
    var paused = false

    @Option(help: "Layout preset to start with, 1-\(Layouts.presets.count) (p cycles them).")
    var layout: Int = 1

    /// Checked options for the workbench; errors name the option and value.
    func workbenchOptions() throws -> WorkbenchOptions {
        var options = WorkbenchOptions()
        options.theme = theme
        if color != "auto" {
            guard let mode = ColorMode(rawValue: color) else {
                throw EngineError("--color \(color): expected auto, truecolor, 256, 16 or mono")
            }
            options.colorMode = mode
        }
        options.mouse = !noMouse
        guard let style = SparklineStyle(rawValue: sparkline) else {
            throw EngineError("--sparkline \(sparkline): expected braille, block or ascii")
        }
        options.sparkline = style
        options.startPaused = paused
        guard (1...Layouts.presets.count).contains(layout) else {
            throw EngineError("--layout \(layout): expected 1-\(Layouts.presets.count)")
        }
        options.preset = layout - 1
        return options
    }
}

/// Exits with the workbench's status (non-zero after a quit by signal). Errors are
/// `EngineError`s, which the root command prints as one line.
func exitWith(_ status: Int32) throws {
    if status != 0 { throw ExitCode(status) }
}

/// `depthscope` / `depthscope workbench`: the live TUI on a model.
struct WorkbenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workbench",
        abstract: "Open the live workbench: generate with a model and watch every token's depth, exits, attention and cost.",
        aliases: ["tui"])

    @Option(help: "Model name (see models/) or a checkpoint folder.")
    var model: String = "shakespeare-mor"

    @Option(help: "Architecture spec, e.g. \"mor threshold=0.6\" (default: the model's own).")
    var arch: String?

    @Option(help: "Prompt to start from (\\n for a newline).")
    var prompt: String = "ROMEO:\\n"

    @Flag(help: "The prompt is a chat message for an instruct model, rendered with its chat template (Ctrl-T in the prompt editor).")
    var chat = false

    @OptionGroup var threads: ThreadsOption
    @OptionGroup var quantize: QuantizeOption

    @Option(help: "Sampling temperature (0 = greedy).")
    var temperature: Float = 0.8

    @Option(name: .customLong("top-k"), help: "Top-k (0 = off).")
    var topK: Int = 0

    @Option(name: .customLong("top-p"), help: "Top-p (1 = off).")
    var topP: Float = 1

    @Option(help: "Random seed: same seed, same text.")
    var seed: UInt64 = 42

    @Option(name: .customLong("max-tokens"), help: "Tokens to generate before the run finishes.")
    var maxTokens: Int = 400

    @Option(help: "Start in A/B compare against this architecture spec.")
    var compare: String?

    @Option(help: "Generate at most this many tokens per second, to follow a demo by eye (default: as fast as the machine goes).")
    var speed: Double?

    @Flag(name: .customLong("exit-when-finished"),
          help: "Quit when the run(s) finish and print their final status (with tokens/s) to stderr.")
    var exitWhenFinished = false

    @OptionGroup var display: WorkbenchDisplayOptions

    func run() throws {
        var options = try display.workbenchOptions()
        options.compareArchitecture = compare
        options.quitWhenFinished = exitWhenFinished
        let settings = RunSettings(
            model: model, architecture: arch ?? "",
            prompt: prompt.replacingOccurrences(of: "\\n", with: "\n"), chat: chat,
            sampler: SamplerSettings(temperature: temperature, topK: topK, topP: topP, seed: seed),
            maxNewTokens: maxTokens)
        let engine = try makeLiveEngine(settings: settings)
        if let compare {
            var b = settings
            b.architecture = compare
            do { try engine.check(b) } catch let error as EngineError { throw EngineError("--compare: \(error.message)") }
        }
        try exitWith(try WorkbenchApp.run(engine: engine, settings: settings, options: options))
    }

    /// The live engine behind the workbench: an adapter over Engine's Session
    /// (Sources/Workbench/Engine/LiveEngine.swift). The settings are checked here, before the
    /// screen changes, so a bad `--model`, `--arch` or `--prompt` is one line on stderr.
    func makeLiveEngine(settings: RunSettings) throws -> LiveEngine {
        if let speed {
            guard speed.isFinite, speed > 0 else {
                throw EngineError("--speed \(speed): expected a positive number of tokens per second")
            }
        }
        let engine = LiveEngine(tokensPerSecond: speed, threads: threads.threads, quantize: try quantize.format)
        try engine.check(settings)
        return engine
    }
}
