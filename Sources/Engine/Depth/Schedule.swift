/// Which stored layer runs at each depth step (docs/architectures.md section 3).
///
/// A schedule is the full-depth list of steps of an architecture; a depth policy decides
/// how much of it a token runs. Every step owns its KV cache (a layer used by three
/// recursions owns three caches), so a step is identified by its index in `steps`.
public struct Schedule: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        public var block: BlockKind
        /// Stored layer whose weights run.
        public var layer: Int
        /// Loop (recursion) index.
        public var recursion: Int
        /// Loop whose LoRA deltas apply (relaxed recursion), nil for none.
        public var lora: Int?
    }

    public var steps: [Step]
    /// Step indices before the recursion blocks (middle_cycle's first layer).
    public var pre: [Int] = []
    /// Step indices of recursion block r (cycle and middle_cycle only).
    public var blocks: [[Int]] = []
    /// Step indices after the recursion blocks (middle_cycle's last layer).
    public var post: [Int] = []
    /// Recurrent depth: the coda's step indices after loop r (empty where it does not run).
    public var codas: [[Int]] = []

    public var count: Int { steps.count }

    /// Plain (R = 1), cycle, sequence or middle_cycle over stored layers 0..<layers.
    public static func recursive(layers: Int, sharing: Sharing, recursions: Int, lora: Bool = false) -> Schedule {
        var schedule = Schedule(steps: [])
        func append(_ layer: Int, _ recursion: Int, looped: Bool) {
            schedule.steps.append(Step(block: .layer, layer: layer, recursion: recursion, lora: looped && lora ? recursion : nil))
        }
        switch sharing {
        case .sequence:
            // No contiguous recursion blocks: only the fixed and early-exit policies use it.
            for layer in 0..<layers {
                for recursion in 0..<recursions { append(layer, recursion, looped: true) }
            }
        case .cycle, .middleCycle:
            let shared = sharing == .middleCycle ? 1..<(layers - 1) : 0..<layers
            if sharing == .middleCycle {
                schedule.pre = [0]
                append(0, 0, looped: false)
            }
            for recursion in 0..<recursions {
                var block: [Int] = []
                for layer in shared {
                    block.append(schedule.steps.count)
                    append(layer, recursion, looped: true)
                }
                schedule.blocks.append(block)
            }
            if sharing == .middleCycle {
                schedule.post = [schedule.steps.count]
                append(layers - 1, 0, looped: false)
            }
        }
        return schedule
    }

    /// Recurrent depth (section 3.2): prelude, core x loops, coda. With `codaEveryLoop`
    /// (an exit criterion needs a prediction per loop) the coda follows every loop.
    public static func recurrent(prelude: Int, core: Int, coda: Int, loops: Int, codaEveryLoop: Bool) -> Schedule {
        var schedule = Schedule(steps: [])
        for layer in 0..<prelude {
            schedule.pre.append(schedule.steps.count)
            schedule.steps.append(Step(block: .prelude, layer: layer, recursion: 0, lora: nil))
        }
        func appendCoda(loop: Int) {
            var indices: [Int] = []
            for layer in (prelude + core)..<(prelude + core + coda) {
                indices.append(schedule.steps.count)
                schedule.steps.append(Step(block: .coda, layer: layer, recursion: loop, lora: nil))
            }
            schedule.codas.append(indices)
        }
        for loop in 0..<loops {
            var block: [Int] = []
            for layer in prelude..<(prelude + core) {
                block.append(schedule.steps.count)
                schedule.steps.append(Step(block: .core, layer: layer, recursion: loop, lora: nil))
            }
            schedule.blocks.append(block)
            if codaEveryLoop || loop == loops - 1 { appendCoda(loop: loop) } else { schedule.codas.append([]) }
        }
        return schedule
    }

    /// Index of the step running `layer` at loop `recursion`, if the schedule has one.
    func index(layer: Int, recursion: Int) -> Int? {
        steps.firstIndex { $0.layer == layer && $0.recursion == recursion }
    }
}
