/// `mor`: Mixture-of-Recursions (Bae et al. 2025; raymin0223/mixture_of_recursions), as
/// decoded token by token (docs/architectures.md 4.2, 4.3). MoR's own routing code works only
/// for training (top-k over a whole sequence); at inference a token decides causally:
///
/// - expert-choice: after recursion block j a sigmoid router scores the state; the token
///   runs block j+1 while the score is >= threshold, and the block's output is mixed into
///   the state by the score (`h = h + score * (block(h) - h)`).
/// - token-choice: one softmax router over R depths, applied once before the first
///   recursion, picks how many recursion blocks the token runs.
///
/// KV: recursion-wise caching (a token that stopped is absent from deeper steps' caches) or
/// recursive sharing (deeper recursions read recursion 0's K/V and store none).
public enum MixtureOfRecursions: ArchitectureKind {
    public static let name = "mor"
    public static let catalog = ArchitectureCatalog.Entry(
        name: name, summary: "Mixture-of-Recursions: routers decide per token how many recursions it runs", needs: "mor",
        options: [
            ArchitectureCatalog.Option(
                name: "threshold", range: "[0, 1]", defaultValue: "config mor.threshold, else 0.5",
                help: "expert-choice: a token continues while its router score is >= threshold (0: always)"),
            ArchitectureCatalog.Option(
                name: "kv", range: "recursion_wise|recursive_sharing",
                defaultValue: "config mor.kv_sharing (true: recursive_sharing)",
                help: "recursion_wise: deeper caches hold only tokens that got there; recursive_sharing: reuse recursion 0's KV"),
        ])

    public static func resolve(_ options: inout OptionReader, for model: DepthModel) throws -> Architecture {
        let depth = model.depth
        guard let mor = depth.mor else { throw options.missing("mor", "Mixture-of-Recursions routers", in: model) }
        guard depth.sharing != .sequence else {
            throw EngineError("arch mor: \(model.configFile): recursive.sharing must be cycle or middle_cycle, not sequence")
        }
        let schedule = Schedule.recursive(
            layers: model.config.numHiddenLayers, sharing: depth.sharing, recursions: depth.numRecursion,
            lora: depth.relaxation != nil)
        var policy: any DepthPolicy = TokenChoice()
        if mor.type == .expert {
            policy = ExpertChoice(threshold: try options.double("threshold", default: mor.threshold, low: 0, high: 1))
        }
        let kv = try options.choice(
            "kv", default: mor.kvSharing ? "recursive_sharing" : "recursion_wise", ["recursion_wise", "recursive_sharing"])
        return Architecture(
            name: name, policy: policy, kv: KVPolicy(rawValue: kv) ?? .recursionWise, schedule: schedule,
            options: options.inEffect)
    }

    /// Recursion block r for `tokens` on `states` (plain residuals inside); under recursive
    /// sharing the blocks after the first read recursion 0's caches.
    static func runRecursionBlock(_ r: Int, _ tokens: [Int]?, _ states: FloatVector, _ batch: DepthRunner) throws {
        let schedule = batch.schedule
        for (k, index) in schedule.blocks[r].enumerated() {
            let shared = batch.architecture.kv == .recursiveSharing && r > 0 ? schedule.blocks[0][k] : nil
            try batch.runStep(index, tokens, states, readingCacheOf: shared)
        }
    }

    /// h = h + weight * (branch - h) for a token.
    static func mix(_ batch: DepthRunner, _ token: Int, weight: Float) {
        let h = batch.row(batch.hidden, token), y = batch.row(batch.branch, token)
        for i in 0..<batch.model.config.hiddenSize { h[i] += weight * (y[i] - h[i]) }
    }
}

/// MoR expert-choice: a sigmoid router after each recursion block; continue while the score
/// is >= threshold.
public struct ExpertChoice: DepthPolicy {
    public let threshold: Double

    public func routing(_ architecture: Architecture) -> String {
        "expert-choice router, threshold \(Architecture.format(threshold)), kv \(architecture.kv.rawValue)"
    }

    public func check(_ model: DepthModel, _ schedule: Schedule) throws {
        guard model.weights.expertRouters.count == schedule.blocks.count - 1 else {
            throw EngineError("arch mor: \(model.folder): the routers do not match \(schedule.blocks.count) recursions")
        }
    }

    public func fullDepthExtraFlops(model: Model, weights: DepthWeights) -> Double {
        weights.expertRouters.reduce(0) { $0 + $1.flops }
    }

    public func run(_ batch: DepthRunner) throws {
        let schedule = batch.schedule, n = batch.count
        let routers = batch.source.weights.expertRouters
        for index in schedule.pre { try batch.runStep(index, nil, batch.hidden) }
        try MixtureOfRecursions.runRecursionBlock(0, nil, batch.hidden, batch)
        // tokenScores: the last router score of each token; tokenCounts: 1 once it stopped.
        for token in 0..<n { batch.tokenCounts[token] = 0 }
        batch.running.removeAll(keepingCapacity: true)
        for token in 0..<n { batch.running.append(token) }
        for (j, router) in routers.enumerated() where !batch.running.isEmpty {
            router.evaluate(batch.gather(batch.running, batch.hidden), rows: batch.running.count, into: batch.unitScores.pointer)
            batch.continuing.removeAll(keepingCapacity: true)
            for (r, token) in batch.running.enumerated() {
                batch.addFlops(token, router.flops)
                let score = sigmoid(batch.unitScores[r])
                batch.addRouterProbability(token, score)
                batch.scoreLastStep(token, score)
                batch.tokenScores[token] = score
                if Double(score) >= threshold {
                    batch.continuing.append(token)
                } else {
                    batch.tokenCounts[token] = 1
                    batch.stop(token, exitState: nil)
                }
            }
            (batch.running, batch.continuing) = (batch.continuing, batch.running)
            guard !batch.running.isEmpty else { break }
            for token in batch.running {
                batch.row(batch.branch, token).update(from: batch.row(batch.hidden, token), count: batch.model.config.hiddenSize)
            }
            try MixtureOfRecursions.runRecursionBlock(j + 1, batch.running, batch.branch, batch)
            for token in batch.running { MixtureOfRecursions.mix(batch, token, weight: batch.tokenScores[token]) }
        }
        for index in schedule.post { try batch.runStep(index, nil, batch.hidden) }
        for token in 0..<n {
            let steps = batch.stepsRun(token), maxSteps = schedule.count
            let routed = !routers.isEmpty
            let score = routed ? batch.tokenScores[token] : nil
            batch.setExit(
                token,
                ExitDecision(
                    reason: batch.tokenCounts[token] == 1 ? .router : .fullDepth, criterion: routed ? "sigmoid_router" : nil,
                    score: score, threshold: routed ? Float(threshold) : nil, steps: steps, maxSteps: maxSteps))
            batch.addFlops(token, batch.model.logitsFlops)
        }
    }
}

/// MoR token-choice: one softmax router picks the number of recursions up front.
public struct TokenChoice: DepthPolicy {
    public func routing(_ architecture: Architecture) -> String { "token-choice router, kv \(architecture.kv.rawValue)" }

    public func check(_ model: DepthModel, _ schedule: Schedule) throws {
        guard model.weights.tokenRouter?.outputs == schedule.blocks.count else {
            throw EngineError("arch mor: \(model.folder): the routers do not match \(schedule.blocks.count) recursions")
        }
    }

    public func fullDepthExtraFlops(model: Model, weights: DepthWeights) -> Double { weights.tokenRouter?.flops ?? 0 }

    public func run(_ batch: DepthRunner) throws {
        guard let router = batch.source.weights.tokenRouter else {
            throw EngineError("arch mor: the checkpoint has no model.mor_router")
        }
        let schedule = batch.schedule, n = batch.count, depths = router.outputs
        for index in schedule.pre { try batch.runStep(index, nil, batch.hidden) }
        router.evaluate(batch.hidden.pointer, rows: n, into: batch.unitScores.pointer)
        for token in 0..<n {
            let scores = batch.unitScores.pointer + token * depths
            batch.addFlops(token, router.flops)
            softmax(scores, count: depths)
            var chosen = 0
            for r in 0..<depths {
                batch.addRouterProbability(token, scores[r])
                if scores[r] > scores[chosen] { chosen = r }
            }
            batch.tokenCounts[token] = chosen
            batch.tokenScores[token] = scores[chosen]
        }
        batch.branch.pointer.update(from: batch.hidden.pointer, count: n * batch.model.config.hiddenSize)
        for r in 0..<depths {
            batch.running.removeAll(keepingCapacity: true)
            for token in 0..<n {
                if batch.tokenCounts[token] >= r { batch.running.append(token) } else { batch.stop(token, exitState: nil) }
            }
            guard !batch.running.isEmpty else { break }
            try MixtureOfRecursions.runRecursionBlock(r, batch.running.count == n ? nil : batch.running, batch.branch, batch)
        }
        for token in 0..<n { MixtureOfRecursions.mix(batch, token, weight: batch.tokenScores[token]) }
        for index in schedule.post { try batch.runStep(index, nil, batch.hidden) }
        for token in 0..<n {
            batch.setExit(
                token,
                ExitDecision(
                    reason: .routerChoice, criterion: "softmax_router", score: batch.tokenScores[token], threshold: nil,
                    steps: batch.stepsRun(token), maxSteps: schedule.count))
            batch.addFlops(token, batch.model.logitsFlops)
        }
    }
}

@inline(__always)
func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
