import Foundation

/// Runs one architecture over a loaded checkpoint, one token at a time, and records what
/// happened inside (`record`): the steps executed with their scores, the exit decision,
/// router probabilities, FLOPs and, when `capture` asks, attention rows and logit lens.
///
/// Every schedule step has its own KV cache; the KV policy decides what it holds for tokens
/// that skipped the step (KVPolicy.swift). A skipped step costs nothing. Scratch memory is
/// allocated once, so with capture off a token allocates nothing.
///
/// The policies are extensions in their own files; this file holds the shared machinery
/// and the fixed-depth policy.
public final class DepthRunner: TokenRunner {
    public let source: DepthModel
    public let architecture: Architecture
    /// The weights that run: the checkpoint's, or the converted ones for `convert`.
    public let model: Model
    public let capacity: Int
    public let state: RunState
    /// What to capture per step beyond the depth trace.
    public var capture: TraceCapture
    /// What the last token did (valid until the next `run`).
    public internal(set) var record = TokenRecord()
    /// Number of tokens run since the last reset (the next token's position).
    public private(set) var position = 0

    let lora: LoRATable
    let schedule: Schedule
    /// One cache per schedule step; nil where the KV policy stores nothing (recursive
    /// sharing's deeper recursions).
    private let caches: [KVCache?]
    /// Recurrent depth: for each looped layer, its step index per loop.
    let latestSteps: [[Int]]

    // Scratch, allocated once.
    let hidden: FloatVector
    let branch: FloatVector
    let accumulator: FloatVector
    let previousHidden: FloatVector
    let injection: FloatVector
    let unitScores: FloatVector
    var logProbabilities: FloatVector
    var previousLogProbabilities: FloatVector

    private let fullDepthConstant: Double
    private let fullDepthPerKey: Double

    /// Builds the runner; for `convert` this builds the converted weights from `source`.
    /// `threads`: how many threads split each large matrix product.
    public init(
        source: DepthModel, architecture: Architecture, capacity: Int, capture: TraceCapture = [], threads: Int = 1
    ) throws {
        guard capacity >= 1 else { throw EngineError("the context capacity must be at least 1 token, got \(capacity)") }
        self.source = source
        self.architecture = architecture
        self.capacity = capacity
        self.capture = capture
        schedule = architecture.schedule
        if let conversion = architecture.conversion {
            (model, lora) = try Convert.build(from: source.model, conversion)
        } else {
            model = source.model
            lora = source.weights.lora
        }
        let config = model.config
        state = try RunState(config: config, contextLength: capacity, threads: threads)
        let steps = architecture.schedule
        caches = try steps.steps.enumerated().map { index, step in
            // Recursive sharing: recursions after the first store no K/V.
            let readsRecursionZero =
                architecture.kv == .recursiveSharing && step.recursion > 0
                && !steps.pre.contains(index) && !steps.post.contains(index)
            return readsRecursionZero ? nil : try KVCache(kvDim: config.kvDim, capacity: capacity)
        }
        if case .recurrent(let settings) = architecture.policy {
            latestSteps = Self.latestStepTable(schedule, loops: settings.loops)
        } else {
            latestSteps = []
        }
        hidden = try FloatVector(count: config.hiddenSize)
        branch = try FloatVector(count: config.hiddenSize)
        accumulator = try FloatVector(count: config.hiddenSize)
        previousHidden = try FloatVector(count: config.hiddenSize)
        injection = try FloatVector(count: 2 * config.hiddenSize)
        unitScores = try FloatVector(count: max(source.depth.numRecursion, 1))
        logProbabilities = try FloatVector(count: config.vocabSize)
        previousLogProbabilities = try FloatVector(count: config.vocabSize)
        try Self.checkWeights(source, architecture)

        // Full depth: every step over every earlier key, plus what the policy always pays.
        var constant = model.logitsFlops
        for (index, step) in schedule.steps.enumerated() {
            constant += model.decoderLayerFlops(attendedRows: 0) + (Self.lora(lora, step)?.flops ?? 0)
            if caches[index] == nil { constant -= model.keyValueFlops + (Self.lora(lora, step)?.keyValueFlops ?? 0) }
        }
        let weights = source.weights
        switch architecture.policy {
        case .fixed, .earlyExit: break
        case .mixtureExpert: constant += weights.expertRouters.reduce(0) { $0 + $1.flops }
        case .mixtureToken: constant += weights.tokenRouter?.flops ?? 0
        case .act(let settings): constant += Double(settings.maxSteps) * (weights.halting?.flops ?? 0)
        case .recurrent(let settings):
            constant += Double(settings.loops) * Double(2 * 2 * config.hiddenSize * config.hiddenSize)
            if settings.codaEveryLoop { constant += Double(settings.loops - 1) * model.logitsFlops }
        }
        fullDepthConstant = constant
        fullDepthPerKey = Double(schedule.count) * (model.decoderLayerFlops(attendedRows: 1) - model.decoderLayerFlops(attendedRows: 0))
        record.steps.reserveCapacity(schedule.count)
        record.routerProbabilities.reserveCapacity(max(source.depth.numRecursion, 1))
    }

    /// Runs `token` at `position` (which must be the next one) and returns the next-token
    /// logits (valid until the next call).
    public func run(token: Int, position requested: Int) throws -> FloatVector {
        guard requested == position else {
            throw EngineError("token positions must come in order: expected \(position), got \(requested)")
        }
        guard position < capacity else {
            throw EngineError("context limit reached: the KV cache holds \(capacity) positions")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        record.steps.removeAll(keepingCapacity: true)
        record.routerProbabilities.removeAll(keepingCapacity: true)
        record.flops = 0
        record.fullDepthFlops = fullDepthConstant + fullDepthPerKey * Double(position + 1)
        try model.embed(token: token, into: hidden)

        let logits: FloatVector
        switch architecture.policy {
        case .fixed: logits = try runFixed()
        case .mixtureExpert(let threshold): logits = try runExpertChoice(threshold: threshold)
        case .mixtureToken: logits = try runTokenChoice()
        case .earlyExit(let settings): logits = try runEarlyExit(settings)
        case .act(let settings): logits = try runACT(settings)
        case .recurrent(let settings): logits = try runRecurrent(settings)
        }
        record.kvCacheBytes = kvCacheBytes
        record.timeMs = milliseconds(since: start)
        position += 1
        return logits
    }

    public func reset() {
        for cache in caches { cache?.reset() }
        position = 0
    }

    /// Bytes of keys and values held by every cache.
    public var kvCacheBytes: Int { caches.reduce(0) { $0 + ($1?.byteCount ?? 0) } }

    // MARK: - Fixed depth

    private func runFixed() throws -> FloatVector {
        for index in schedule.steps.indices { try runStep(index, hidden) }
        record.exit = ExitDecision(reason: "full_depth", steps: schedule.count, maxSteps: schedule.count)
        return headLogits(hidden)
    }

    // MARK: - Shared machinery

    /// Runs schedule step `index` on `state` in place, attending over the step's own cache
    /// (appending this token), or, with `readingCacheOf`, over another step's cache without
    /// storing anything (recursive KV sharing). Records the step.
    func runStep(_ index: Int, _ hiddenState: FloatVector, readingCacheOf other: Int? = nil, lensLater: Bool = false) throws {
        let step = schedule.steps[index]
        let stepLoRA = loraOf(step)
        let stepCache = try cache(other ?? index)
        let start = DispatchTime.now().uptimeNanoseconds
        if other == nil {
            try model.decoderLayer(
                step.layer, hidden: hiddenState, position: position, cache: stepCache, state: state, lora: stepLoRA)
        } else {
            try model.attentionBlock(
                step.layer, hidden: hiddenState, position: position, cache: stepCache, state: state,
                appendToCache: false, lora: stepLoRA)
            model.mlpBlock(step.layer, hidden: hiddenState, state: state, lora: stepLoRA)
            record.flops -= model.keyValueFlops + (stepLoRA?.keyValueFlops ?? 0)
        }
        record.flops += model.decoderLayerFlops(attendedRows: state.attendedRows) + (stepLoRA?.flops ?? 0)
        var trace = StepTrace(
            step: index, block: step.block, layer: step.layer, recursion: step.recursion, timeMs: milliseconds(since: start))
        if capture.contains(.attention) {
            trace.attention = state.attentionByPosition(
                cache: stepCache, span: position + 1, heads: model.config.numAttentionHeads)
        }
        record.steps.append(trace)
        if capture.contains(.lens), !lensLater {
            captureLens(model.logits(hidden: hiddenState, state: state))
        }
    }

    /// Sets the last step's logit lens to the top 5 of `logits` (capture only).
    func captureLens(_ logits: FloatVector) {
        guard capture.contains(.lens), !record.steps.isEmpty else { return }
        record.steps[record.steps.count - 1].lens = topCandidates(logits.pointer, count: logits.count, limit: 5)
    }

    /// The policy's score after the last recorded step.
    func scoreLastStep(_ score: Float?) {
        guard !record.steps.isEmpty else { return }
        record.steps[record.steps.count - 1].score = score
    }

    func loraOf(_ step: Schedule.Step) -> LayerLoRA? { Self.lora(lora, step) }

    private static func lora(_ table: LoRATable, _ step: Schedule.Step) -> LayerLoRA? {
        step.lora.flatMap { table[step.layer, $0] }
    }

    func cache(_ index: Int) throws -> KVCache {
        guard let cache = caches[index] else {
            throw EngineError("internal: schedule step \(index) has no KV cache under \(architecture.kv.rawValue)")
        }
        return cache
    }

    /// Logits of `state` through the final norm and head, counted as policy work.
    func headLogits(_ hiddenState: FloatVector) -> FloatVector {
        record.flops += model.logitsFlops
        return model.logits(hidden: hiddenState, state: state)
    }

    /// The tensors a policy needs; the checkpoint loader has checked their shapes.
    private static func checkWeights(_ source: DepthModel, _ architecture: Architecture) throws {
        let weights = source.weights
        switch architecture.policy {
        case .mixtureExpert where weights.expertRouters.count != architecture.schedule.blocks.count - 1,
            .mixtureToken where weights.tokenRouter?.outputs != architecture.schedule.blocks.count:
            throw EngineError("arch mor: \(source.folder): the routers do not match \(architecture.schedule.blocks.count) recursions")
        case .act where weights.halting == nil:
            throw EngineError("arch ut: \(source.folder): the checkpoint has no model.act_halting")
        case .recurrent where weights.adapter == nil:
            throw EngineError("arch recurrent: \(source.folder): the checkpoint has no model.adapter.weight")
        default: break
        }
    }
}

/// What to capture per step besides the depth trace (each costs a little).
public struct TraceCapture: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Per-head attention row of the token at every executed step.
    public static let attention = TraceCapture(rawValue: 1 << 0)
    /// Top-5 next-token predictions after every executed step (logit lens).
    public static let lens = TraceCapture(rawValue: 1 << 1)
    public static let all: TraceCapture = [.attention, .lens]
}

/// What one token did inside the runner: the part of `TokenTrace` the engine knows
/// (Session adds the token's text, alternatives and probability).
public struct TokenRecord: Sendable {
    public var steps: [StepTrace] = []
    public var exit = ExitDecision(reason: "full_depth", steps: 0, maxSteps: 0)
    /// Empty when the architecture has no router.
    public var routerProbabilities: [Float] = []
    public var flops: Double = 0
    public var fullDepthFlops: Double = 0
    public var kvCacheBytes = 0
    public var timeMs: Double = 0
}

func milliseconds(since start: UInt64) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds &- start) / 1e6
}

/// The `limit` most probable entries of softmax(logits), most probable first (ties: lower
/// id first). Texts are left empty for the caller to fill.
func topCandidates(_ logits: UnsafePointer<Float>, count: Int, limit: Int) -> [Candidate] {
    guard count > 0, limit > 0 else { return [] }
    let (maximum, total) = softmaxDenominator(logits, count: count)
    // The ids of the best so far, best first, in a small buffer: the logit lens calls
    // this at every step of every token, and growing an array cost more than the rest.
    return withUnsafeTemporaryAllocation(of: Int.self, capacity: limit) { best in
        var filled = 0
        func consider(_ i: Int) {
            let value = logits[i]
            if filled == limit, value <= logits[best[limit - 1]] { return }
            if filled < limit { filled += 1 }
            var slot = filled - 1  // when full, the last one drops out
            while slot > 0, logits[best[slot - 1]] < value {
                best[slot] = best[slot - 1]
                slot -= 1
            }
            best[slot] = i
        }
        // Once the list is full, 16 logits at a time are skipped when none beats its last.
        let raw = UnsafeRawPointer(logits)
        var i = 0
        while i < count {
            if filled == limit, i + 16 <= count {
                let chunk = raw.loadUnaligned(fromByteOffset: i * 4, as: Vector16.self)
                if any(chunk .> Vector16(repeating: logits[best[limit - 1]])) {
                    for j in i..<(i + 16) { consider(j) }
                }
                i += 16
            } else {
                consider(i)
                i += 1
            }
        }
        return (0..<filled).map { rank in
            let id = best[rank]
            return Candidate(id: id, text: "", probability: Float(Double(expf(logits[id] - maximum)) / total))
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
