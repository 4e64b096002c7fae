/// `ut`: Universal Transformer with Adaptive Computation Time (Dehghani et al. 2019, Graves
/// 2016; docs/architectures.md 4.5). One ACT step = one pass of the shared stack (a
/// recursion block). After step n a sigmoid halting unit gives p_n; the token halts when
/// the cumulative sum reaches 1 - epsilon (or at max_steps), and its output is the
/// halting-weighted mix of the step states, the last weighted by the remainder.
/// Steps it skipped get K/V from that output (state propagation).
public enum UniversalTransformer: ArchitectureKind {
    public static let name = "ut"
    public static let catalog = ArchitectureCatalog.Entry(
        name: name, summary: "Universal Transformer with ACT halting (cumulative sigmoid, remainder weighting)",
        needs: "act",
        options: [
            ArchitectureCatalog.Option(name: "max_steps", range: ">= 1", defaultValue: "config act.max_steps", help: "most ACT steps (loops)"),
            ArchitectureCatalog.Option(
                name: "epsilon", range: "(0, 1)", defaultValue: "config act.epsilon, else 0.01",
                help: "halt when the cumulative halting probability reaches 1 - epsilon"),
        ])

    public static func resolve(_ options: inout OptionReader, for model: DepthModel) throws -> Architecture {
        guard let act = model.depth.act else { throw options.missing("act", "ACT halting unit", in: model) }
        let steps = try options.int("max_steps", default: act.maxSteps, min: 1, max: Architecture.maxDepthSteps)
        let epsilon = try options.double("epsilon", default: act.epsilon, low: 0, high: 1, openLow: true, openHigh: true)
        return Architecture(
            name: name, policy: AdaptiveComputationTime(maxSteps: steps, epsilon: epsilon), kv: .propagate,
            schedule: .recursive(layers: model.config.numHiddenLayers, sharing: .cycle, recursions: steps),
            options: options.inEffect)
    }
}

/// Section 4.5.
public struct AdaptiveComputationTime: DepthPolicy {
    public var maxSteps: Int
    public var epsilon: Double
    /// Halt once the cumulative halting probability reaches this (1 - epsilon, in f32 as
    /// the reference compares it).
    public var limit: Float { Float(1 - epsilon) }

    public func routing(_ architecture: Architecture) -> String {
        "ACT halting at \(Architecture.format(Double(limit))), at most \(maxSteps) steps"
    }

    public func check(_ model: DepthModel, _ schedule: Schedule) throws {
        guard model.weights.halting != nil else {
            throw EngineError("arch ut: \(model.folder): the checkpoint has no model.act_halting")
        }
    }

    public func fullDepthExtraFlops(model: Model, weights: DepthWeights) -> Double {
        Double(maxSteps) * (weights.halting?.flops ?? 0)
    }

    public func run(_ batch: DepthRunner) throws {
        guard let halting = batch.source.weights.halting else {
            throw EngineError("arch ut: the checkpoint has no model.act_halting")
        }
        let n = batch.count, d = batch.model.config.hiddenSize
        batch.accumulator.pointer.update(repeating: 0, count: n * d)
        // tokenScores: the cumulative halting probability before the current step.
        batch.running.removeAll(keepingCapacity: true)
        for token in 0..<n {
            batch.running.append(token)
            batch.tokenScores[token] = 0
        }
        for step in 1...maxSteps {
            // A recursion block; tokens that halted give its caches their output's K/V.
            for index in batch.schedule.blocks[step - 1] { try batch.runStep(index, batch.running, batch.hidden) }
            guard !batch.running.isEmpty else { continue }
            halting.evaluate(batch.gather(batch.running, batch.hidden), rows: batch.running.count, into: batch.unitScores.pointer)
            batch.continuing.removeAll(keepingCapacity: true)
            for (r, token) in batch.running.enumerated() {
                batch.addFlops(token, halting.flops)
                let p = sigmoid(batch.unitScores[r]), cumulative = batch.tokenScores[token]
                let sum = cumulative + p
                batch.scoreLastStep(token, sum)
                let h = batch.row(batch.hidden, token), output = batch.row(batch.accumulator, token)
                guard sum >= limit || step == maxSteps else {
                    addScaled(h, scale: p, into: output, count: d)
                    batch.tokenScores[token] = sum
                    batch.continuing.append(token)
                    continue
                }
                // Remainder R = 1 - (sum before this step).
                addScaled(h, scale: 1 - cumulative, into: output, count: d)
                batch.setExit(
                    token,
                    ExitDecision(
                        reason: sum >= limit ? .halted : .maxSteps, criterion: "act", score: sum, threshold: limit,
                        steps: batch.stepsRun(token), maxSteps: batch.schedule.count))
                batch.setOutput(token, state: output)
                batch.stop(token, exitState: output)
                batch.addFlops(token, batch.model.logitsFlops)
            }
            (batch.running, batch.continuing) = (batch.continuing, batch.running)
        }
    }
}
