/// What later tokens read at a depth step a token did not run (docs/architectures.md 5).
public enum KVPolicy: String, Sendable, CaseIterable {
    /// Every token runs every step: every cache is complete.
    case full
    /// MoR recursion-wise caching: a step's cache holds only the tokens that ran it.
    case recursionWise = "recursion_wise"
    /// MoR recursive KV sharing: K/V come from recursion 0 only; deeper recursions store
    /// nothing and read recursion 0's cache of the same shared layer.
    case recursiveSharing = "recursive_sharing"
    /// CALM state propagation: skipped steps get K/V computed from the exit state.
    case propagate
    /// Huginn "latest": an earlier token is read at its latest loop not after this one.
    case latest
}

extension DepthRunner {
    /// State propagation: steps `skipped` get this token's K/V from `exitState`, computed
    /// with each step's own layer (and its loop's LoRA).
    func propagate(_ exitState: FloatVector, toSteps skipped: Range<Int>) throws {
        for index in skipped {
            let step = schedule.steps[index]
            let lora = loraOf(step)
            try model.appendKeyValue(step.layer, hidden: exitState, position: position, cache: try cache(index), state: state, lora: lora)
            record.flops += model.keyValueFlops + (lora?.keyValueFlops ?? 0)
        }
    }

    /// Latest-loop lookup for a token that stopped after `loopsRun` of `totalLoops` loops:
    /// the K/V of the last loop it ran become its entries at every later loop of the same
    /// layer, so a later query at loop i reads loop min(i, its last loop) from one cache.
    func carryLatest(loopsRun: Int, totalLoops: Int) throws {
        guard loopsRun < totalLoops else { return }
        for stepsByLoop in latestSteps {
            let last = stepsByLoop[loopsRun - 1]
            guard last >= 0 else { continue }
            let source = try cache(last)
            let row = source.count - 1
            guard row >= 0, source.position(ofRow: row) == position else { continue }
            for loop in loopsRun..<totalLoops where stepsByLoop[loop] >= 0 {
                let target = try cache(stepsByLoop[loop])
                let copy = try target.appendRow(position: position)
                target.key(copy).update(from: source.key(row), count: source.kvDim)
                target.value(copy).update(from: source.value(row), count: source.kvDim)
            }
        }
    }

    /// For each looped layer (core and coda), the step index at each loop (-1: none).
    static func latestStepTable(_ schedule: Schedule, loops: Int) -> [[Int]] {
        let layers = Array(Set(schedule.steps.filter { $0.block != "prelude" }.map(\.layer))).sorted()
        return layers.map { layer in (0..<loops).map { schedule.index(layer: layer, recursion: $0) ?? -1 } }
    }
}
