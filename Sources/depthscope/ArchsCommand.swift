import ArgumentParser
import Engine
import Foundation

/// `depthscope archs [--model DIR] [--json]`: the architectures, what each needs and its
/// options with ranges and defaults; with `--model`, which ones the checkpoint can run and
/// the defaults it gives them.
struct ArchsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archs",
        abstract: "List the architectures and their options (ranges, defaults).")

    @Option(name: .long, help: "Show availability and defaults for this model (a folder, .gguf file, name in models/ or HF repo id).")
    var model: String?

    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        let loaded = try model.map { try DepthModel(folder: ModelLocator.resolve($0)) }
        let entries = ArchitectureCatalog.entries.map { entry -> (ArchitectureCatalog.Entry, Result<Architecture, EngineError>?) in
            guard let loaded else { return (entry, nil) }
            do {
                return (entry, .success(try Architecture.resolve(entry.name, options: [], for: loaded)))
            } catch let error as EngineError {
                return (entry, .failure(error))
            } catch {
                return (entry, .failure(EngineError("\(error)")))
            }
        }
        if json {
            try StandardStreams.write(try jsonReport(entries, loaded) + "\n")
        } else {
            try StandardStreams.write(textReport(entries, loaded))
        }
    }

    private func textReport(_ entries: [(ArchitectureCatalog.Entry, Result<Architecture, EngineError>?)], _ loaded: DepthModel?) -> String {
        var out = ""
        if let loaded {
            out += "model \(loaded.folder): default architecture \(loaded.depth.defaultArchitecture)\n\n"
        }
        for (entry, resolved) in entries {
            var heading = "\(entry.name)  \(entry.summary)"
            if let needs = entry.needs { heading += " (needs config.json \"\(needs)\")" }
            out += heading + "\n"
            if case .failure(let error)? = resolved { out += "    not available: \(error.message)\n" }
            var inEffect: [String: String] = [:]
            if case .success(let architecture)? = resolved {
                for option in architecture.options { inEffect[option.key] = option.value }
                out += "    schedule: \(architecture.maxDepth) steps; \(architecture.routing)\n"
            }
            for option in entry.options {
                let value = inEffect[option.name].map { "default here: \($0)" } ?? "default: \(option.defaultValue)"
                out += "    \(option.name)  \(option.range)  (\(value))\n"
                out += "        \(option.help)\n"
            }
            out += "\n"
        }
        out += "Give options as --arch-option key=value (repeatable); '-' may replace '_' in names and values.\n"
        return out
    }

    private func jsonReport(_ entries: [(ArchitectureCatalog.Entry, Result<Architecture, EngineError>?)], _ loaded: DepthModel?) throws -> String {
        var list: [[String: Any]] = []
        for (entry, resolved) in entries {
            var item: [String: Any] = [
                "name": entry.name, "summary": entry.summary,
                "options": entry.options.map { ["name": $0.name, "range": $0.range, "default": $0.defaultValue, "help": $0.help] },
            ]
            if let needs = entry.needs { item["needs"] = needs }
            switch resolved {
            case .success(let architecture)?:
                item["available"] = true
                item["max_depth"] = architecture.maxDepth
                item["routing"] = architecture.routing
                item["defaults"] = Dictionary(uniqueKeysWithValues: architecture.options.map { ($0.key, $0.value) })
            case .failure(let error)?:
                item["available"] = false
                item["reason"] = error.message
            case nil: break
            }
            list.append(item)
        }
        var report: [String: Any] = ["architectures": list]
        if let loaded {
            report["model"] = loaded.folder
            report["default_architecture"] = loaded.depth.defaultArchitecture
        }
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
