import Foundation

/// The local Hugging Face hub cache, read the way huggingface_hub reads it offline
/// (`HF_HUB_OFFLINE=1`, `local_files_only=True`): `--model org/name` finds a model someone
/// downloaded with transformers or `hf download`, and nothing here touches the network.
///
/// Layout (huggingface_hub's file_download.py): `{root}/models--{org}--{name}/` holds
/// `refs/{revision}` (a file holding a commit hash; `refs/refs/pr/1` for the revision
/// `refs/pr/1`), `snapshots/{commit}/…` (the repository's files, usually symlinks into
/// `blobs/`) and `blobs/`.
///
/// What `--model` accepts:
/// - `org/name`: the snapshot `refs/main` points to.
/// - `org/name@REVISION`: a branch or tag under `refs/` (`refs/pr/1` for a pull request),
///   or a full 40-digit commit hash under `snapshots/`.
/// - `org/name/FILE.gguf`, `org/name@REVISION/FILE.gguf`: one .gguf file of the snapshot
///   (a path inside it: `org/name/q4/FILE.gguf`). The file part is what ends in `.gguf`; a
///   revision with slashes is the longest leading part that names a ref.
///
/// A snapshot with config.json is a model folder; one without it but with exactly one .gguf
/// file gives that file.
public struct HuggingFaceCache: Sendable {
    /// The hub cache folder, as huggingface_hub's constants.py picks it.
    public let root: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        root = Self.root(environment: environment)
    }

    public init(root: String) {
        self.root = root
    }

    /// `HF_HUB_CACHE`, else `HUGGINGFACE_HUB_CACHE` (deprecated), else `HF_HOME/hub`, else
    /// `XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`, with a leading `~`
    /// expanded from `HOME`. Unlike Python, an empty variable counts as unset (Python would
    /// make an empty HF_HOME mean the current folder), and `$VAR`s inside values are not expanded.
    public static func root(environment: [String: String]) -> String {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let home = value("HOME") ?? NSHomeDirectory()
        let cacheHome = value("XDG_CACHE_HOME") ?? (home as NSString).appendingPathComponent(".cache")
        let hfHome = value("HF_HOME") ?? (cacheHome as NSString).appendingPathComponent("huggingface")
        let hub = value("HF_HUB_CACHE") ?? value("HUGGINGFACE_HUB_CACHE")
            ?? (expandingTilde(hfHome, home: home) as NSString).appendingPathComponent("hub")
        return expandingTilde(hub, home: home)
    }

    private static func expandingTilde(_ path: String, home: String) -> String {
        if path == "~" { return home }
        if path.hasPrefix("~/") { return (home as NSString).appendingPathComponent(String(path.dropFirst(2))) }
        return path
    }

    /// What the user typed after `--model`, when it has the shape of a hub repo id.
    public struct Reference: Sendable, Equatable {
        public let repoID: String
        /// The path components after `@` (a revision, maybe followed by a .gguf path); nil: `main`.
        let afterAt: [String]?
        /// The .gguf path given without `@` (empty: none).
        let file: [String]

        /// Nil when `text` is not `org/name[@REVISION][/FILE.gguf]` (so it is taken as a path).
        public init?(_ text: String) {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2 else { return nil }
            var name = parts[1]
            var rest = Array(parts.dropFirst(2))
            var afterAt: [String]?
            if let at = name.firstIndex(of: "@") {
                afterAt = [String(name[name.index(after: at)...])] + rest
                name = String(name[..<at])
                rest = []
            }
            guard Self.isRepoIDPart(parts[0]), Self.isRepoIDPart(name),
                (afterAt ?? rest).allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }),
                rest.last.map(Self.isGGUFName) ?? true
            else { return nil }
            repoID = parts[0] + "/" + name
            self.afterAt = afterAt
            file = rest
        }

        /// huggingface_hub's validate_repo_id: word characters, '-' and '.', starting and
        /// ending with a word character, no '--' (the cache's separator) and no '..'.
        static func isRepoIDPart(_ part: String) -> Bool {
            let word = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || c == "_") }
            guard let first = part.first, let last = part.last, word(first), word(last) else { return false }
            return part.allSatisfy { word($0) || $0 == "-" || $0 == "." }
                && !part.contains("--") && !part.contains("..")
        }

        static func isGGUFName(_ name: String) -> Bool { name.lowercased().hasSuffix(".gguf") }
    }

    /// The model folder (a snapshot holding config.json) or .gguf file that `reference` names.
    public func resolve(_ reference: Reference) throws -> String {
        let repo = repoFolder(reference.repoID)
        guard isDirectory(repo) else {
            let cached = cachedRepoIDs()
            let list = !cached.isEmpty ? "cached: " + cached.joined(separator: ", ")
                : isDirectory(root) ? "none cached" : "no such folder"
            throw EngineError(
                "model '\(reference.repoID)' not found: not a local folder, and not in the Hugging Face cache \(root) (\(list)); depthscope never downloads: fetch it with `hf download \(reference.repoID)`, or set HF_HUB_CACHE or HF_HOME")
        }
        let (revision, file) = split(reference, in: repo)
        let snapshot = try snapshotFolder(repoID: reference.repoID, revision: revision, in: repo)
        let named = reference.repoID + (reference.afterAt == nil ? "" : "@" + revision)
        if !file.isEmpty { return try ggufFile(file.joined(separator: "/"), in: snapshot, named: named) }

        let config = (snapshot as NSString).appendingPathComponent("config.json")
        if exists(config) || isLink(config) {
            // The loader reads several of its files: each must reach its blob.
            for entry in FileManager.default.enumerator(atPath: snapshot)?.allObjects as? [String] ?? [] {
                try checkLink((snapshot as NSString).appendingPathComponent(entry), of: named)
            }
            return snapshot
        }
        let ggufs = ggufFiles(in: snapshot)
        switch ggufs.count {
        case 0:
            throw EngineError("\(snapshot): the snapshot of \(named) holds no config.json and no .gguf file")
        case 1:
            return try ggufFile(ggufs[0], in: snapshot, named: named)
        default:
            throw EngineError(
                "model '\(named)' holds several .gguf files (\(ggufs.joined(separator: ", "))): pick one with --model \(reference.repoID)/FILE.gguf or \(reference.repoID)@REVISION/FILE.gguf, e.g. --model \(named)/\(ggufs[0])")
        }
    }

    /// Every cached model repository with an `org/name` id, sorted.
    public func cachedRepoIDs() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return entries.compactMap { entry -> String? in
            guard entry.hasPrefix("models--") else { return nil }
            let parts = entry.dropFirst("models--".count).components(separatedBy: "--")
            guard parts.count == 2, isDirectory((root as NSString).appendingPathComponent(entry)) else { return nil }
            return Reference(parts.joined(separator: "/"))?.repoID
        }.sorted()
    }

    /// What `--model` accepts for the cached repositories at `main`: `org/name` where that
    /// resolves, `org/name/FILE.gguf` for each file of a repository holding several.
    public func modelNames() -> [String] {
        cachedRepoIDs().flatMap { id -> [String] in
            guard let reference = Reference(id) else { return [] }
            if (try? resolve(reference)) != nil { return [id] }
            let repo = repoFolder(id)
            guard let snapshot = try? snapshotFolder(repoID: id, revision: "main", in: repo) else { return [] }
            let ggufs = ggufFiles(in: snapshot)
            return ggufs.count > 1 ? ggufs.map { id + "/" + $0 } : []
        }
    }

    // MARK: Revisions

    private func repoFolder(_ repoID: String) -> String {
        (root as NSString).appendingPathComponent("models--" + repoID.replacingOccurrences(of: "/", with: "--"))
    }

    /// The revision and the .gguf path: after `@`, the revision is the longest leading run of
    /// components naming a ref or a commit hash; failing that, all but a trailing .gguf name.
    private func split(_ reference: Reference, in repo: String) -> (revision: String, file: [String]) {
        guard let parts = reference.afterAt else { return ("main", reference.file) }
        guard parts.count > 1, Reference.isGGUFName(parts[parts.count - 1]) else {
            return (parts.joined(separator: "/"), [])
        }
        for count in stride(from: parts.count - 1, through: 1, by: -1) {
            let revision = parts[..<count].joined(separator: "/")
            if Self.isCommitHash(revision) || isFile(refPath(revision, in: repo)) {
                return (revision, Array(parts[count...]))
            }
        }
        return (parts.dropLast().joined(separator: "/"), [parts[parts.count - 1]])
    }

    /// `snapshots/{commit}` for a commit hash, or for the commit that `refs/{revision}` holds
    /// (huggingface_hub checks for a commit hash first, then refs/).
    private func snapshotFolder(repoID: String, revision: String, in repo: String) throws -> String {
        let snapshots = (repo as NSString).appendingPathComponent("snapshots")
        let ref = refPath(revision, in: repo)
        func missing() -> EngineError {
            EngineError("model '\(repoID)': revision '\(revision)' is not in the Hugging Face cache \(repo) (\(available(in: repo)))")
        }
        let commit: String
        if Self.isCommitHash(revision) {
            guard isDirectory((snapshots as NSString).appendingPathComponent(revision)) else { throw missing() }
            commit = revision
        } else if isFile(ref) {
            let text = (try? String(contentsOfFile: ref, encoding: .utf8)) ?? ""
            commit = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard Self.isCommitHash(commit) else {
                throw EngineError("\(ref): does not hold a commit hash (it holds '\(commit.prefix(60))')")
            }
        } else {
            throw missing()
        }
        let snapshot = (snapshots as NSString).appendingPathComponent(commit)
        guard isDirectory(snapshot) else {
            throw EngineError(
                "model '\(repoID)': revision '\(revision)' points to commit \(commit), whose snapshot \(snapshot) is missing (\(available(in: repo)))")
        }
        return snapshot
    }

    private func refPath(_ revision: String, in repo: String) -> String {
        ((repo as NSString).appendingPathComponent("refs") as NSString).appendingPathComponent(revision)
    }

    /// "refs: main, dev; snapshots: {commit}, …" for error messages.
    private func available(in repo: String) -> String {
        let refsFolder = (repo as NSString).appendingPathComponent("refs")
        let refs = (FileManager.default.enumerator(atPath: refsFolder)?.allObjects as? [String] ?? [])
            .filter { isFile((refsFolder as NSString).appendingPathComponent($0)) }.sorted()
        let snapshotsFolder = (repo as NSString).appendingPathComponent("snapshots")
        let snapshots = ((try? FileManager.default.contentsOfDirectory(atPath: snapshotsFolder)) ?? []).sorted()
        func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }
        return "refs: \(list(refs)); snapshots: \(list(snapshots))"
    }

    static func isCommitHash(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    // MARK: Files in a snapshot

    private func ggufFile(_ file: String, in snapshot: String, named: String) throws -> String {
        let path = (snapshot as NSString).appendingPathComponent(file)
        guard exists(path) || isLink(path) else {
            let ggufs = ggufFiles(in: snapshot)
            let list = ggufs.isEmpty ? "it holds none" : "it holds " + ggufs.joined(separator: ", ")
            throw EngineError("model '\(named)': no \(file) in the cached snapshot \(snapshot) (\(list))")
        }
        try checkLink(path, of: named)
        return path
    }

    /// Relative paths of the .gguf files in a snapshot (subfolders included), sorted.
    private func ggufFiles(in snapshot: String) -> [String] {
        (FileManager.default.enumerator(atPath: snapshot)?.allObjects as? [String] ?? [])
            .filter(Reference.isGGUFName).sorted()
    }

    /// A symlink whose blob is gone (a pruned or interrupted download) is an error naming both.
    private func checkLink(_ path: String, of named: String) throws {
        guard isLink(path), !exists(path) else { return }
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
        let folder = URL(fileURLWithPath: (path as NSString).deletingLastPathComponent, isDirectory: true)
        let blob = URL(fileURLWithPath: target, relativeTo: folder).standardizedFileURL.path
        throw EngineError(
            "\(path): broken link to \(blob), which is missing (an incomplete or pruned download of \(named): fetch it again)")
    }

    private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    private func isLink(_ path: String) -> Bool { (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil }

    private func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    private func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
