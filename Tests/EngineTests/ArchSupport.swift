import Foundation
import Testing

@testable import Engine

/// The adaptive-depth parity fixtures written by training/make_arch_fixtures.py (format at
/// the top of that script): tiny checkpoints under archs/models and one case per file under
/// archs/cases, each with the PyTorch reference's token-by-token results.
enum ArchFixtures {
    static let root = Fixtures.root.appendingPathComponent("archs")

    static func modelFolder(_ name: String) -> String { root.appendingPathComponent("models").appendingPathComponent(name).path }

    static let caseNames: [String] = {
        let folder = root.appendingPathComponent("cases").path
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }()

    static func load(_ name: String) throws -> ArchCase {
        let url = root.appendingPathComponent("cases").appendingPathComponent(name + ".json")
        return try JSONDecoder().decode(ArchCase.self, from: Data(contentsOf: url))
    }

    /// Loaded checkpoints, shared by the tests (a DepthModel is immutable).
    static func model(_ name: String) throws -> DepthModel {
        try DepthModel(folder: modelFolder(name))
    }
}

struct ArchCase: Decodable {
    struct Step: Decodable, Equatable {
        let block: String
        let layer: Int
        let recursion: Int
        let score: Double?

        init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            block = try c.decode(String.self)
            layer = try c.decode(Int.self)
            recursion = try c.decode(Int.self)
            score = try c.decodeIfPresent(Double.self)
        }
    }

    struct Exit: Decodable {
        let reason: String
        let criterion: String?
        let score: Double?
        let threshold: Double?
        let steps: Int
        let maxSteps: Int

        enum CodingKeys: String, CodingKey {
            case reason, criterion, score, threshold, steps
            case maxSteps = "max_steps"
        }
    }

    struct Token: Decodable {
        let depth: Int
        let steps: [Step]
        let exit: Exit
        let routerProbabilities: [Double]?
        let halting: [Double]?

        enum CodingKeys: String, CodingKey {
            case depth, steps, exit, halting
            case routerProbabilities = "router_probabilities"
        }
    }

    let model: String
    let arch: String
    let options: [String: String]
    let tokens: [Int]
    let logits: [[Float]]
    let logitsTolerance: Float
    let trace: [Token]

    enum CodingKeys: String, CodingKey {
        case model, arch, options, tokens, logits, trace
        case logitsTolerance = "logits_tolerance"
    }

    var architectureOptions: [ArchitectureOption] {
        options.keys.sorted().map { ArchitectureOption($0, options[$0] ?? "") }
    }
}

/// Runs `tokens` from an empty cache and returns every position's logits and record.
func runTokens(_ model: DepthModel, _ architecture: Architecture, _ tokens: [Int], capture: TraceCapture = [])
    throws -> [(logits: [Float], record: TokenRecord)]
{
    let runner = try DepthRunner(source: model, architecture: architecture, capacity: max(tokens.count, 1), capture: capture)
    return try tokens.enumerated().map { position, token in
        let logits = try runner.run(token: token, position: position)
        return (logits, runner.record)
    }
}

/// Largest |a - b| over two equally shaped logit tables.
func maxDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
    var worst: Float = 0
    for (rowA, rowB) in zip(a, b) {
        guard rowA.count == rowB.count else { return .infinity }
        for (x, y) in zip(rowA, rowB) { worst = max(worst, abs(x - y)) }
    }
    return a.count == b.count ? worst : .infinity
}

/// Step lists as (block, layer, recursion) for exact comparison.
func stepKeys(_ steps: [StepTrace]) -> [String] {
    steps.map { "\($0.block) \($0.layer) \($0.recursion)" }
}
