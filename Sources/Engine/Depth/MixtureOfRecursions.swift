/// Mixture-of-Recursions (Bae et al. 2025; raymin0223/mixture_of_recursions), as decoded
/// token by token (docs/architectures.md 4.2, 4.3). MoR's own routing code works only for
/// training (top-k over a whole sequence); at inference a token decides causally:
///
/// - expert-choice: after recursion block j a sigmoid router scores the state; the token
///   runs block j+1 while the score is >= threshold, and the block's output is mixed into
///   the state by the score (`h = h + score * (block(h) - h)`).
/// - token-choice: one softmax router over R depths, applied once before the first
///   recursion, picks how many recursion blocks the token runs.
///
/// KV: recursion-wise caching (a token that stopped is absent from deeper steps' caches) or
/// recursive sharing (deeper recursions read recursion 0's K/V and store none).
extension DepthRunner {
    func runExpertChoice(threshold: Double) throws -> FloatVector {
        let routers = source.weights.expertRouters
        for index in schedule.pre { try runStep(index, hidden) }
        for index in schedule.blocks[0] { try runStep(index, hidden) }
        var stoppedAt: Float?
        var lastScore: Float?
        for (j, router) in routers.enumerated() {
            router.evaluate(hidden, into: unitScores.pointer)
            record.flops += router.flops
            let score = sigmoid(unitScores[0])
            record.routerProbabilities.append(score)
            scoreLastStep(score)
            lastScore = score
            guard Double(score) >= threshold else {
                stoppedAt = score
                break
            }
            branch.copy(from: hidden)
            try runRecursionBlock(j + 1, branch)
            // h = h + score * (y - h)
            for i in 0..<hidden.count { hidden[i] += score * (branch[i] - hidden[i]) }
        }
        for index in schedule.post { try runStep(index, hidden) }
        let maxSteps = schedule.count
        if let stoppedAt {
            record.exit = ExitDecision(
                reason: "router", criterion: "sigmoid_router", score: stoppedAt, threshold: Float(threshold),
                steps: record.steps.count, maxSteps: maxSteps)
        } else {
            record.exit = ExitDecision(
                reason: "full_depth", criterion: lastScore == nil ? nil : "sigmoid_router", score: lastScore,
                threshold: lastScore == nil ? nil : Float(threshold), steps: record.steps.count, maxSteps: maxSteps)
        }
        return headLogits(hidden)
    }

    func runTokenChoice() throws -> FloatVector {
        guard let router = source.weights.tokenRouter else { throw EngineError("arch mor: the checkpoint has no model.mor_router") }
        for index in schedule.pre { try runStep(index, hidden) }
        router.evaluate(hidden, into: unitScores.pointer)
        record.flops += router.flops
        softmax(unitScores.pointer, count: router.outputs)
        var chosen = 0
        for r in 0..<router.outputs {
            record.routerProbabilities.append(unitScores[r])
            if unitScores[r] > unitScores[chosen] { chosen = r }
        }
        let weight = unitScores[chosen]
        branch.copy(from: hidden)
        for r in 0...chosen { try runRecursionBlock(r, branch) }
        for i in 0..<hidden.count { hidden[i] += weight * (branch[i] - hidden[i]) }
        for index in schedule.post { try runStep(index, hidden) }
        record.exit = ExitDecision(
            reason: "router_choice", criterion: "softmax_router", score: weight, threshold: nil,
            steps: record.steps.count, maxSteps: schedule.count)
        return headLogits(hidden)
    }

    /// Recursion block r on `state` (plain residuals inside); under recursive sharing the
    /// blocks after the first read recursion 0's caches.
    private func runRecursionBlock(_ r: Int, _ state: FloatVector) throws {
        for (k, index) in schedule.blocks[r].enumerated() {
            let shared = architecture.kv == .recursiveSharing && r > 0 ? schedule.blocks[0][k] : nil
            try runStep(index, state, readingCacheOf: shared)
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
