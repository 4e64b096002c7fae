import Foundation
import Testing

@testable import Engine

/// A hub cache laid out as huggingface_hub writes it: file contents in `blobs/`, snapshot
/// files as relative symlinks into `blobs/`, `refs/{revision}` files holding commit hashes.
struct FakeHubCache {
    let folder: TemporaryFolder
    var root: String { folder.path }
    var environment: [String: String] { ["HF_HUB_CACHE": root, "DEPTHSCOPE_MODELS": folder.file("no-models")] }

    init() throws { folder = try TemporaryFolder() }

    func repo(_ id: String) -> String { folder.file("models--" + id.replacingOccurrences(of: "/", with: "--")) }

    func snapshot(_ id: String, _ commit: String) -> String { repo(id) + "/snapshots/" + commit }

    /// Writes each file's content as a blob (named by a fresh hash) and links it into the snapshot.
    func add(_ id: String, commit: String, files: [String: Data]) throws {
        let blobs = repo(id) + "/blobs"
        try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        for (name, content) in files {
            let blob = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try content.write(to: URL(fileURLWithPath: blobs + "/" + blob))
            try link(id, commit: commit, file: name, toBlob: blob)
        }
        if files.isEmpty {
            try FileManager.default.createDirectory(atPath: snapshot(id, commit), withIntermediateDirectories: true)
        }
    }

    func add(_ id: String, commit: String, texts: [String: String]) throws {
        try add(id, commit: commit, files: texts.mapValues { Data($0.utf8) })
    }

    /// A snapshot file linked to `blob` with a relative path, as huggingface_hub makes it.
    func link(_ id: String, commit: String, file: String, toBlob blob: String) throws {
        let path = snapshot(id, commit) + "/" + file
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let depth = file.split(separator: "/").count + 1  // up to snapshots/{commit}, then snapshots/
        let target = String(repeating: "../", count: depth) + "blobs/" + blob
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
    }

    func setRef(_ id: String, _ revision: String, _ commit: String) throws {
        let path = repo(id) + "/refs/" + revision
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(commit.utf8).write(to: URL(fileURLWithPath: path))
    }

    func resolve(_ argument: String) throws -> String {
        try ModelLocator.resolve(argument, environment: environment)
    }
}

/// `--model org/name[@revision][/FILE.gguf]` found offline in the Hugging Face cache, as
/// huggingface_hub finds it with `HF_HUB_OFFLINE=1`; every failure is one line naming the problem.
@Suite struct HuggingFaceCacheTests {
    static let mainCommit = "1c7e4a0f5e2d9b3a8f6c0d1e2b3a4c5d6e7f8091"
    static let devCommit = "2d8f5b1a6f3e0c4b9a7d1e2f3c4b5d6e7f809102"
    static let oldCommit = "3e9a6c2b7a4f1d5c0b8e2f3a4d5c6e7f80910213"
    static let prCommit = "4fab7d3c8b5a2e6d1c9f3a4b5e6d7f8091021324"
    static let config = #"{"model_type": "llama"}"#

    /// org/model: main, a dev branch, a PR ref, and an older commit that no ref names.
    static func standardCache() throws -> FakeHubCache {
        let cache = try FakeHubCache()
        try cache.add("org/model", commit: mainCommit, texts: ["config.json": config, "model.safetensors": "main"])
        try cache.add("org/model", commit: devCommit, texts: ["config.json": config, "model.safetensors": "dev"])
        try cache.add("org/model", commit: oldCommit, texts: ["config.json": config])
        try cache.add("org/model", commit: prCommit, texts: ["config.json": config, "pr.gguf": "pr"])
        try cache.setRef("org/model", "main", mainCommit)
        try cache.setRef("org/model", "dev", devCommit)
        try cache.setRef("org/model", "refs/pr/1", prCommit)  // huggingface_hub writes refs/refs/pr/1
        try cache.add("org/one-gguf", commit: mainCommit, texts: ["model-q8_0.gguf": "gguf", "README.md": "hi"])
        try cache.setRef("org/one-gguf", "main", mainCommit)
        try cache.add("org/two-gguf", commit: mainCommit, texts: ["a-q4_0.gguf": "a", "b-f16.gguf": "b"])
        try cache.add("org/two-gguf", commit: devCommit, texts: ["c-q8_0.gguf": "c", "d/e-q4_0.gguf": "e"])
        try cache.setRef("org/two-gguf", "main", mainCommit)
        try cache.setRef("org/two-gguf", "feature/x", devCommit)
        return cache
    }

    // MARK: The cache folder

    @Test func cacheFolderFollowsHuggingFaceHubPrecedence() {
        let all = [
            "HF_HUB_CACHE": "/a/hub", "HUGGINGFACE_HUB_CACHE": "/b/hub", "HF_HOME": "/c",
            "XDG_CACHE_HOME": "/d", "HOME": "/e",
        ]
        func root(without removed: [String], _ changes: [String: String] = [:]) -> String {
            var environment = all.filter { !removed.contains($0.key) }
            environment.merge(changes) { $1 }
            return HuggingFaceCache.root(environment: environment)
        }
        #expect(root(without: []) == "/a/hub")
        #expect(root(without: ["HF_HUB_CACHE"]) == "/b/hub")
        #expect(root(without: ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"]) == "/c/hub")
        #expect(root(without: ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME"]) == "/d/huggingface/hub")
        #expect(root(without: ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"])
            == "/e/.cache/huggingface/hub")
        // A leading ~ is the home folder, as Python's expanduser makes it; empty means unset.
        #expect(root(without: [], ["HF_HUB_CACHE": "~/x"]) == "/e/x")
        #expect(root(without: ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"], ["HF_HOME": "~/hf"]) == "/e/hf/hub")
        #expect(root(without: ["HUGGINGFACE_HUB_CACHE"], ["HF_HUB_CACHE": ""]) == "/c/hub")
    }

    // MARK: Revisions

    @Test func mainIsTheDefaultRevision() throws {
        let cache = try Self.standardCache()
        #expect(try cache.resolve("org/model") == cache.snapshot("org/model", Self.mainCommit))
        #expect(try cache.resolve("org/model@main") == cache.snapshot("org/model", Self.mainCommit))
    }

    @Test func branchTagPullRequestAndCommitHash() throws {
        let cache = try Self.standardCache()
        #expect(try cache.resolve("org/model@dev") == cache.snapshot("org/model", Self.devCommit))
        #expect(try cache.resolve("org/model@refs/pr/1") == cache.snapshot("org/model", Self.prCommit))
        // A full commit hash needs no ref: it names a snapshot folder directly.
        #expect(try cache.resolve("org/model@\(Self.oldCommit)") == cache.snapshot("org/model", Self.oldCommit))
        // A ref written by hand with a newline still names its commit (huggingface_hub would miss it).
        try cache.setRef("org/model", "v1.0", Self.oldCommit + "\n")
        #expect(try cache.resolve("org/model@v1.0") == cache.snapshot("org/model", Self.oldCommit))
    }

    @Test func missingRevisionListsRefsAndSnapshots() throws {
        let cache = try Self.standardCache()
        expectEngineError(containing: [
            "org/model", "revision 'v9'", cache.repo("org/model"), "main", "dev", "refs/pr/1",
            Self.mainCommit, Self.oldCommit,
        ]) { _ = try cache.resolve("org/model@v9") }
        let uncached = String(repeating: "5", count: 40)
        expectEngineError(containing: ["revision '\(uncached)'", Self.devCommit]) {
            _ = try cache.resolve("org/model@\(uncached)")
        }
        // A short hash is only a ref name (huggingface_hub records one in refs/ when online).
        expectEngineError(containing: ["revision '1c7e4a0'"]) { _ = try cache.resolve("org/model@1c7e4a0") }
    }

    @Test func refToAMissingSnapshotSaysSo() throws {
        let cache = try Self.standardCache()
        let gone = String(repeating: "6", count: 40)
        try cache.setRef("org/model", "stale", gone)
        expectEngineError(containing: ["revision 'stale'", "commit \(gone)", cache.snapshot("org/model", gone), "missing"]) {
            _ = try cache.resolve("org/model@stale")
        }
        try cache.setRef("org/model", "junk", "not a hash")
        expectEngineError(containing: [cache.repo("org/model") + "/refs/junk", "commit hash"]) {
            _ = try cache.resolve("org/model@junk")
        }
    }

    @Test func uncachedRepoListsWhatIsCached() throws {
        let cache = try Self.standardCache()
        expectEngineError(containing: [
            "org/nope", "not a local folder", cache.root, "org/model, org/one-gguf, org/two-gguf", "hf download org/nope",
        ]) { _ = try cache.resolve("org/nope") }
        let empty = try FakeHubCache()
        expectEngineError(containing: ["org/nope", empty.root, "none cached"]) { _ = try empty.resolve("org/nope") }
        expectEngineError(containing: ["/no/such/cache", "no such folder"]) {
            _ = try ModelLocator.resolve("org/nope", environment: ["HF_HUB_CACHE": "/no/such/cache"])
        }
    }

    // MARK: GGUF repositories

    @Test func theOnlyGGUFFileIsTheModel() throws {
        let cache = try Self.standardCache()
        #expect(try cache.resolve("org/one-gguf") == cache.snapshot("org/one-gguf", Self.mainCommit) + "/model-q8_0.gguf")
    }

    @Test func severalGGUFFilesAskForOne() throws {
        let cache = try Self.standardCache()
        expectEngineError(containing: [
            "org/two-gguf", "a-q4_0.gguf, b-f16.gguf", "--model org/two-gguf/FILE.gguf", "org/two-gguf@REVISION/FILE.gguf",
        ]) { _ = try cache.resolve("org/two-gguf") }
        expectEngineError(containing: ["org/two-gguf@feature/x", "c-q8_0.gguf, d/e-q4_0.gguf"]) {
            _ = try cache.resolve("org/two-gguf@feature/x")
        }
    }

    @Test func aGGUFFileIsPickedByPath() throws {
        let cache = try Self.standardCache()
        let main = cache.snapshot("org/two-gguf", Self.mainCommit)
        let dev = cache.snapshot("org/two-gguf", Self.devCommit)
        #expect(try cache.resolve("org/two-gguf/b-f16.gguf") == main + "/b-f16.gguf")
        #expect(try cache.resolve("org/two-gguf@main/a-q4_0.gguf") == main + "/a-q4_0.gguf")
        // A revision with a slash, then a file in a subfolder.
        #expect(try cache.resolve("org/two-gguf@feature/x/d/e-q4_0.gguf") == dev + "/d/e-q4_0.gguf")
        #expect(try cache.resolve("org/two-gguf@\(Self.devCommit)/c-q8_0.gguf") == dev + "/c-q8_0.gguf")
        #expect(try cache.resolve("org/model@refs/pr/1/pr.gguf") == cache.snapshot("org/model", Self.prCommit) + "/pr.gguf")
        expectEngineError(containing: ["org/two-gguf", "no c-q8_0.gguf", main, "a-q4_0.gguf, b-f16.gguf"]) {
            _ = try cache.resolve("org/two-gguf/c-q8_0.gguf")
        }
        expectEngineError(containing: ["revision 'v2'", "feature/x"]) { _ = try cache.resolve("org/two-gguf@v2/a-q4_0.gguf") }
    }

    // MARK: Broken snapshots

    @Test func danglingLinksAreNamed() throws {
        let cache = try Self.standardCache()
        let gone = "0123456789abcdef0123456789abcdef01234567"
        try cache.add("org/broken", commit: Self.mainCommit, texts: ["model.safetensors": "w"])
        try cache.link("org/broken", commit: Self.mainCommit, file: "config.json", toBlob: gone)
        try cache.setRef("org/broken", "main", Self.mainCommit)
        let config = cache.snapshot("org/broken", Self.mainCommit) + "/config.json"
        expectEngineError(containing: [config, "broken link", cache.repo("org/broken") + "/blobs/" + gone, "org/broken"]) {
            _ = try cache.resolve("org/broken")
        }

        try cache.add("org/no-weights", commit: Self.mainCommit, texts: ["config.json": Self.config])
        try cache.link("org/no-weights", commit: Self.mainCommit, file: "model.safetensors", toBlob: gone)
        try cache.setRef("org/no-weights", "main", Self.mainCommit)
        expectEngineError(containing: [cache.snapshot("org/no-weights", Self.mainCommit) + "/model.safetensors", "broken link"]) {
            _ = try cache.resolve("org/no-weights")
        }

        try cache.link("org/two-gguf", commit: Self.mainCommit, file: "z-q2_k.gguf", toBlob: gone)
        expectEngineError(containing: [cache.snapshot("org/two-gguf", Self.mainCommit) + "/z-q2_k.gguf", "broken link"]) {
            _ = try cache.resolve("org/two-gguf/z-q2_k.gguf")
        }
    }

    @Test func snapshotWithoutAModelSaysSo() throws {
        let cache = try Self.standardCache()
        try cache.add("org/empty", commit: Self.mainCommit, texts: ["README.md": "no model"])
        try cache.setRef("org/empty", "main", Self.mainCommit)
        expectEngineError(containing: [cache.snapshot("org/empty", Self.mainCommit), "no config.json and no .gguf"]) {
            _ = try cache.resolve("org/empty")
        }
    }

    // MARK: What counts as a repo id, and the names offered

    @Test func onlyRepoIDsAreLookedUpInTheCache() {
        #expect(HuggingFaceCache.Reference("org/name")?.repoID == "org/name")
        #expect(HuggingFaceCache.Reference("Org-1/name.v2_x@dev")?.repoID == "Org-1/name.v2_x")
        #expect(HuggingFaceCache.Reference("org/name/FILE.gguf")?.repoID == "org/name")
        #expect(HuggingFaceCache.Reference("org/name@refs/pr/1")?.repoID == "org/name")
        for path in [
            "name", "/abs/path", "./models/x", "~/models/x", "../x/y", "org/name/sub", "org/na--me", "org/-name",
            "org/name.", "org/name@", "org//name", "org/name/../x.gguf", "org/name@main/../x.gguf",
        ] {
            #expect(HuggingFaceCache.Reference(path) == nil, "\(path)")
        }
    }

    @Test func pathsThatAreNotRepoIDsKeepTheirErrors() {
        expectEngineError(containing: ["/no/such/model", "no such model folder"]) {
            _ = try ModelLocator.resolve("/no/such/model", environment: ["HF_HUB_CACHE": "/no/such/cache"])
        }
        expectEngineError(containing: ["models/typo/extra", "no such model folder"]) {
            _ = try ModelLocator.resolve("models/typo/extra", environment: ["HF_HUB_CACHE": "/no/such/cache"])
        }
    }

    @Test func availableNamesIncludeWhatResolves() throws {
        let cache = try Self.standardCache()
        try cache.add("org/empty", commit: Self.mainCommit, texts: ["README.md": "no model"])
        try cache.setRef("org/empty", "main", Self.mainCommit)
        try cache.add("org/no-main", commit: Self.devCommit, texts: ["config.json": Self.config])
        let names = ModelLocator.availableNames(environment: cache.environment)
        let fromCache = names.filter { $0.hasPrefix("org/") }
        #expect(fromCache == ["org/model", "org/one-gguf", "org/two-gguf/a-q4_0.gguf", "org/two-gguf/b-f16.gguf"])
        for name in fromCache { #expect(throws: Never.self) { try cache.resolve(name) } }
        // The repository's models/ folder is still listed.
        #expect(names.count > fromCache.count)
    }

    // MARK: Real models through blob symlinks

    @Test func realModelsLoadThroughTheCache() throws {
        let cache = try FakeHubCache()
        let llama = Fixtures.models.appendingPathComponent("llama2")
        var files: [String: Data] = [:]
        for name in ["config.json", "model.safetensors"] {
            files[name] = try Data(contentsOf: llama.appendingPathComponent(name))
        }
        try cache.add("tiny/llama2", commit: Self.mainCommit, files: files)
        try cache.setRef("tiny/llama2", "main", Self.mainCommit)
        let model = try Model(folder: try cache.resolve("tiny/llama2"))
        let reference = try Model(folder: llama.path)
        #expect(model.config.numHiddenLayers == reference.config.numHiddenLayers)

        let gguf = try Data(contentsOf: Fixtures.root.appendingPathComponent("gguf/llama2-f16.gguf"))
        try cache.add("tiny/llama2-gguf", commit: Self.mainCommit, files: ["llama2-f16.gguf": gguf])
        try cache.setRef("tiny/llama2-gguf", "main", Self.mainCommit)
        let depth = try DepthModel(folder: try cache.resolve("tiny/llama2-gguf"))
        #expect(depth.config.numHiddenLayers == 2)
    }
}
