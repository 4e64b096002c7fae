/// Universal Transformer with Adaptive Computation Time (Dehghani et al. 2019, Graves
/// 2016; docs/architectures.md 4.5). One ACT step = one pass of the shared stack (a
/// recursion block). After step n a sigmoid halting unit gives p_n; the token halts when
/// the cumulative sum reaches 1 - epsilon (or at max_steps), and its output is the
/// halting-weighted mix of the step states, the last weighted by the remainder.
/// Steps it skipped get K/V from that output (state propagation).
extension DepthRunner {
    func runACT(_ settings: ACTSettings) throws -> FloatVector {
        guard let halting = source.weights.halting else { throw EngineError("arch ut: the checkpoint has no model.act_halting") }
        let limit = settings.limit
        accumulator.fill(with: 0)
        var cumulative: Float = 0
        var sum: Float = 0
        var reason = "max_steps"
        for n in 1...settings.maxSteps {
            for index in schedule.blocks[n - 1] { try runStep(index, hidden) }
            halting.evaluate(hidden, into: unitScores.pointer)
            record.flops += halting.flops
            let p = sigmoid(unitScores[0])
            sum = cumulative + p
            scoreLastStep(sum)
            if sum >= limit || n == settings.maxSteps {
                // Remainder R = 1 - (sum before this step).
                let remainder = 1 - cumulative
                for i in 0..<hidden.count { accumulator[i] += remainder * hidden[i] }
                reason = sum >= limit ? "halted" : "max_steps"
                break
            }
            for i in 0..<hidden.count { accumulator[i] += p * hidden[i] }
            cumulative = sum
        }
        let executed = record.steps.count
        try propagate(accumulator, toSteps: executed..<schedule.count)
        record.exit = ExitDecision(
            reason: reason, criterion: "act", score: sum, threshold: limit, steps: executed, maxSteps: schedule.count)
        return headLogits(accumulator)
    }
}
