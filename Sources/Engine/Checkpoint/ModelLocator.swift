import Foundation

/// Finds a model from what the user typed after `--model`: a folder path, or the bare name
/// of a folder in one of the model directories (so `--model shakespeare-vanilla` works from
/// anywhere). Searched in order: `$DEPTHSCOPE_MODELS` (colon-separated), `./models`, and
/// the `models/` folder of the repository this binary was built from. A hub repo id
/// (`org/name[@revision][/FILE.gguf]`) is found offline in the Hugging Face cache (`HuggingFaceCache`).
public enum ModelLocator {
    /// The repository's `models/` folder, known at compile time from this file's path
    /// (Sources/Engine/Checkpoint/ModelLocator.swift).
    public static let repositoryModels: String = {
        let thisFile = URL(fileURLWithPath: #filePath)
        return thisFile.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("models").path
    }()

    /// Folders searched for bare names, in order, without duplicates.
    public static func searchFolders(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var folders: [String] = []
        if let list = environment["DEPTHSCOPE_MODELS"] {
            folders += list.split(separator: ":").map(String.init)
        }
        folders.append((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent("models"))
        folders.append(repositoryModels)
        var seen = Set<String>()
        return folders.filter { seen.insert(($0 as NSString).standardizingPath).inserted }
    }

    /// Names of the models (subfolders holding a config.json, and .gguf files) in the search
    /// folders, and the repo ids in the Hugging Face cache that `resolve` accepts.
    public static func availableNames(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var names = Set<String>()
        for folder in searchFolders(environment: environment) {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for entry in entries where isModelFolder((folder as NSString).appendingPathComponent(entry)) {
                names.insert(entry)
            }
        }
        names.formUnion(HuggingFaceCache(environment: environment).modelNames())
        return names.sorted()
    }

    /// The folder for `nameOrPath`, or an error that lists the names available.
    public static func resolve(
        _ nameOrPath: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: nameOrPath, isDirectory: &isDirectory) {
            return nameOrPath
        }
        let looksLikePath = nameOrPath.contains("/") || nameOrPath.hasPrefix(".") || nameOrPath.hasPrefix("~")
        if !looksLikePath {
            for folder in searchFolders(environment: environment) {
                let candidate = (folder as NSString).appendingPathComponent(nameOrPath)
                if isModelFolder(candidate) { return candidate }
            }
        }
        if let reference = HuggingFaceCache.Reference(nameOrPath) {
            return try HuggingFaceCache(environment: environment).resolve(reference)
        }
        let names = availableNames(environment: environment)
        let available = names.isEmpty ? "none found" : names.joined(separator: ", ")
        if looksLikePath {
            throw EngineError("\(nameOrPath): no such model folder")
        }
        throw EngineError(
            "model '\(nameOrPath)' not found: not a folder, and not a model name (available: \(available); set DEPTHSCOPE_MODELS to add a folder of models)")
    }

    static func isModelFolder(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("config.json"))
            || (path.lowercased().hasSuffix(".gguf") && GGUFModel.isGGUF(path))
    }
}
