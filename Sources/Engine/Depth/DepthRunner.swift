import Foundation

/// Runs one architecture over a loaded checkpoint and records what happened inside each
/// token: the steps executed with their scores, the exit decision, router probabilities,
/// FLOPs and, when `capture` asks, attention rows and logit lens.
///
/// Tokens go through in batches (`run(_:logits:)`): a prompt, an architecture-switch replay
/// or a context shift as many tokens at once, a decoded token as a batch of one. At each
/// depth step the tokens still at that step go through the layer together; tokens that
/// stopped leave the batch, and the step's cache gets for them what the KV policy says
/// (nothing, keys and values of their exit state, or their latest loop's). Every token
/// gets its own record, decisions and cache rows exactly as when fed one by one; only the
/// products' summation order differs.
///
/// Every schedule step has its own KV cache; a skipped step costs nothing. Scratch memory
/// is allocated once, so with capture off a decoded token allocates nothing. The depth
/// policy (with its architecture in Depth/Architectures/) drives the batch through the
/// primitives below.
public final class DepthRunner {
    public let source: DepthModel
    public let architecture: Architecture
    /// The weights that run: the checkpoint's, or the converted ones for `convert`.
    public let model: Model
    public let capacity: Int
    public let state: RunState
    /// Most tokens one `run` takes.
    public let batchSize: Int
    /// What to capture per step beyond the depth trace.
    public var capture: TraceCapture {
        didSet {
            // Attention rows need one weights buffer per token of a batch; without memory
            // for it the rows are left out rather than read from the wrong place.
            if (try? state.captureAttention(capture.contains(.attention))) == nil { capture.remove(.attention) }
        }
    }
    /// What each token of the last batch did (`count` of them are valid).
    public private(set) var records: [TokenRecord]
    /// Tokens in the last batch.
    public private(set) var count = 0
    /// Number of tokens run since the last reset (the next token's position).
    public private(set) var position = 0

    let lora: LoRATable
    let schedule: Schedule
    /// One cache per schedule step; nil where the KV policy stores nothing (recursive
    /// sharing's deeper recursions).
    private let caches: [KVCache?]
    /// For each step, the step index of its stored layer at each loop (-1: none), for the
    /// `latest` KV policy; empty elsewhere.
    private let stepsByLoop: [[Int]]

    // Per batch token, allocated once (`batchSize` rows each).
    /// Every token's hidden state.
    let hidden: FloatVector
    let branch: FloatVector
    let accumulator: FloatVector
    let previousHidden: FloatVector
    /// Recurrent depth's adapter input [state, embedding] (2 x hidden per token).
    let injection: FloatVector
    let unitScores: FloatVector
    /// Per-step predictions of the running tokens (compact: row r for the r-th listed token);
    /// vocabulary-sized rows are large, so they grow to a batch only when a batch needs them
    /// (a plain decode or prompt needs none).
    private(set) var predictions: FloatVector
    /// Log-probabilities of each token's last two predictions, alternating by step parity.
    let logProbabilities: [FloatVector]
    /// The kept next-token logits: row j for batch token j when every token's are kept, row 0
    /// for the last token's otherwise (also grown only when needed).
    private var outputLogits: FloatVector
    private var kept = KeptLogits.last
    /// Rows gathered from a subset of the batch, for a layer or a product.
    private let gathered: FloatVector
    private let rowTokens: UnsafeMutablePointer<Int>
    private let plan: UnsafeMutableBufferPointer<KeyValueEntry>
    private var outputState: [UnsafePointer<Float>?]
    private var outputReady: [Bool]
    private var skipped: [SkippedKeyValues]
    /// Scratch for the policies, `batchSize` entries each.
    var tokenScores: [Float]
    var tokenCounts: [Int]
    var tokenArgmax: [Int]
    /// Token lists for the policies (batch indices, ascending).
    var running: [Int] = []
    var continuing: [Int] = []

    private let fullDepthConstant: Double
    private let fullDepthPerKey: Double

    /// Builds the runner; for `convert` this builds the converted weights from `source`.
    /// `threads`: how many threads split each large matrix product. `batchSize`: most
    /// tokens a batch takes (default: up to 64, fewer for large vocabularies).
    public init(
        source: DepthModel, architecture: Architecture, capacity: Int, capture: TraceCapture = [], threads: Int = 1,
        batchSize: Int? = nil
    ) throws {
        guard capacity >= 1 else { throw EngineError("the context capacity must be at least 1 token, got \(capacity)") }
        self.source = source
        self.architecture = architecture
        self.capacity = capacity
        schedule = architecture.schedule
        if let conversion = architecture.conversion {
            (model, lora) = try Convert.build(from: source.model, conversion)
        } else {
            model = source.model
            lora = source.weights.lora
        }
        let config = model.config
        let vocabulary = config.vocabSize
        // Vocabulary-sized rows per token at most: predictions and kept logits (both grown only
        // when a batch needs them), the policy's log-probabilities.
        let buffers = 2 + architecture.policy.predictionBuffers
        // About 64 MB of them at most, and never more rows than the context.
        let rows = min(max(batchSize ?? min(64, (64 << 20) / max(4 * vocabulary * buffers, 1)), 1), capacity)
        self.batchSize = rows
        self.capture = capture
        state = try RunState(model: model, contextLength: capacity, rows: rows, threads: threads)
        try state.captureAttention(capture.contains(.attention))
        let steps = architecture.schedule
        caches = try steps.steps.enumerated().map { index, step in
            // Recursive sharing: recursions after the first store no K/V.
            let readsRecursionZero =
                architecture.kv == .recursiveSharing && step.recursion > 0
                && !steps.pre.contains(index) && !steps.post.contains(index)
            return readsRecursionZero ? nil : try KVCache(kvDim: config.kvDim, capacity: capacity)
        }
        stepsByLoop = architecture.kv == .latest ? Self.loopTable(steps) : []
        let d = config.hiddenSize
        hidden = try FloatVector(count: rows * d)
        branch = try FloatVector(count: rows * d)
        accumulator = try FloatVector(count: rows * d)
        previousHidden = try FloatVector(count: rows * d)
        injection = try FloatVector(count: rows * 2 * d)
        gathered = try FloatVector(count: rows * 2 * d)
        unitScores = try FloatVector(count: rows * max(source.depth.numRecursion, 1))
        predictions = try FloatVector(count: vocabulary)
        logProbabilities = try (0..<2).map { _ in
            try FloatVector(count: architecture.policy.predictionBuffers > 1 ? rows * vocabulary : 1)
        }
        outputLogits = try FloatVector(count: vocabulary)
        rowTokens = .allocate(capacity: rows)
        rowTokens.initialize(repeating: 0, count: rows)
        plan = .allocate(capacity: rows)
        outputState = Array(repeating: nil, count: rows)
        outputReady = Array(repeating: false, count: rows)
        skipped = Array(repeating: .none, count: rows)
        tokenScores = Array(repeating: 0, count: rows)
        tokenCounts = Array(repeating: 0, count: rows)
        tokenArgmax = Array(repeating: 0, count: rows)
        running.reserveCapacity(rows)
        continuing.reserveCapacity(rows)
        try architecture.policy.check(source, schedule)

        // Full depth: every step over every earlier key, plus what the policy always pays.
        var constant = model.logitsFlops + architecture.policy.fullDepthExtraFlops(model: model, weights: source.weights)
        for (index, step) in schedule.steps.enumerated() {
            constant += model.decoderLayerFlops(attendedRows: 0) + (Self.lora(lora, step)?.flops ?? 0)
            if caches[index] == nil { constant -= model.keyValueFlops + (Self.lora(lora, step)?.keyValueFlops ?? 0) }
        }
        fullDepthConstant = constant
        fullDepthPerKey = Double(schedule.count) * (model.decoderLayerFlops(attendedRows: 1) - model.decoderLayerFlops(attendedRows: 0))
        // Their arrays get room the first time a batch uses them (a decode uses one).
        records = Array(repeating: TokenRecord(), count: rows)
    }

    deinit {
        rowTokens.deallocate()
        plan.deallocate()
    }

    /// Which tokens' next-token logits a batch keeps.
    public enum KeptLogits: Sendable {
        /// None (a prompt's batches before its last: the head costs as much as a layer).
        case none
        /// The last token's (generation).
        case last
        /// Every token's (evaluation, traces).
        case all
    }

    /// Runs `tokens` at the next positions (at most `batchSize` of them): afterwards
    /// `records[0..<count]` say what each did and `logits(of:)` gives the kept logits.
    public func run<Tokens: Collection<Int>>(_ tokens: Tokens, logits kept: KeptLogits = .last) throws {
        let n = tokens.count
        guard n >= 1, n <= batchSize else { throw EngineError("internal: a batch of \(n) tokens (at most \(batchSize))") }
        guard position + n <= capacity else {
            throw EngineError("context limit reached: the KV cache holds \(capacity) positions")
        }
        let begin = DispatchTime.now().uptimeNanoseconds
        count = n
        self.kept = kept
        if kept == .all { try grow(&outputLogits, rows: n) }
        let routers = max(source.depth.numRecursion, 1)
        for j in 0..<n {
            records[j].steps.removeAll(keepingCapacity: true)
            records[j].routerProbabilities.removeAll(keepingCapacity: true)
            if records[j].steps.capacity < schedule.count { records[j].steps.reserveCapacity(schedule.count) }
            if records[j].routerProbabilities.capacity < routers { records[j].routerProbabilities.reserveCapacity(routers) }
            records[j].flops = 0
            records[j].fullDepthFlops = fullDepthConstant + fullDepthPerKey * Double(position + j + 1)
            records[j].exit = ExitDecision(reason: .fullDepth, steps: 0, maxSteps: schedule.count)
            outputState[j] = nil
            outputReady[j] = false
            skipped[j] = .none
        }
        try model.embed(tokens, into: hidden.pointer)
        state.rotary.prepare(start: position, count: n)
        try architecture.policy.run(self)
        switch kept {
        case .none: break
        case .last: try computeKeptLogits((n - 1)..<n)
        case .all: try computeKeptLogits(0..<n)
        }
        let time = milliseconds(since: begin) / Double(n)
        for j in 0..<n {
            records[j].kvCacheBytes = kvCacheBytes(atOrBefore: position + j)
            records[j].timeMs = time
        }
        position += n
    }

    /// One token at `position` (which must be the next one); returns a copy of its
    /// next-token logits and leaves its record in `record` (tests and tools; generation
    /// reads `logits(of:)` without copying).
    @discardableResult
    public func run(token: Int, position requested: Int) throws -> [Float] {
        guard requested == position else {
            throw EngineError("token positions must come in order: expected \(position), got \(requested)")
        }
        try run(CollectionOfOne(token))
        return Array(UnsafeBufferPointer(start: logits(of: 0), count: model.config.vocabSize))
    }

    /// The last token's record.
    public var record: TokenRecord { records[max(count - 1, 0)] }

    /// The kept next-token logits of batch token `token` (valid until the next run): any
    /// token's when the batch kept all, else the last token's.
    public func logits(of token: Int) -> UnsafePointer<Float> {
        UnsafePointer(outputLogits.pointer + outputRow(token) * model.config.vocabSize)
    }

    private func outputRow(_ token: Int) -> Int { kept == .all ? token : 0 }

    /// Whether the batch keeps `token`'s logits.
    private func keeps(_ token: Int) -> Bool { kept == .all || (kept == .last && token == count - 1) }

    /// Makes `buffer` hold `rows` vocabulary-sized rows (allocates only to grow).
    private func grow(_ buffer: inout FloatVector, rows: Int) throws {
        let needed = rows * model.config.vocabSize
        if buffer.count < needed { buffer = try FloatVector(count: needed) }
    }

    public func reset() {
        for cache in caches { cache?.reset() }
        position = 0
    }

    /// Bytes of keys and values held by every cache.
    public var kvCacheBytes: Int { caches.reduce(0) { $0 + ($1?.byteCount ?? 0) } }

    /// Bytes of keys and values the caches held once the token at `position` was added.
    private func kvCacheBytes(atOrBefore position: Int) -> Int {
        let rowBytes = model.config.kvDim * 2 * MemoryLayout<Float>.stride
        return caches.reduce(0) { $0 + ($1?.rowCount(atOrBefore: position) ?? 0) * rowBytes }
    }

    // MARK: - Primitives for the depth policies

    /// Position of batch token 0.
    var start: Int { position }

    /// Hidden state row of batch token `token` in `states` (a per-token buffer).
    func row(_ states: FloatVector, _ token: Int) -> UnsafeMutablePointer<Float> {
        states.pointer + token * model.config.hiddenSize
    }

    /// Runs schedule step `index` for `tokens` (nil: the whole batch) on their rows of
    /// `states`, attending over the step's own cache, or, with `readingCacheOf`, over
    /// another step's cache without storing anything (recursive KV sharing). Tokens not
    /// listed give the step's cache what the KV policy says. Records the step for each
    /// listed token, and its logit lens unless `lensLater` (the policy computes it).
    func runStep(
        _ index: Int, _ tokens: [Int]?, _ states: FloatVector, readingCacheOf other: Int? = nil, lensLater: Bool = false
    ) throws {
        let step = schedule.steps[index]
        let stepLoRA = loraOf(step)
        let d = model.config.hiddenSize
        let all = tokens == nil || tokens?.count == count
        let n = all ? count : tokens?.count ?? 0
        if !all, let tokens {
            for (r, token) in tokens.enumerated() {
                rowTokens[r] = token
                (gathered.pointer + r * d).update(from: row(states, token), count: d)
            }
        }
        let rows = LayerRows(
            states: all ? states.pointer : gathered.pointer, count: n, tokens: all ? nil : UnsafePointer(rowTokens),
            start: start)
        let cache = try self.cache(other ?? index)
        let writes: KeyValueWrites
        if other != nil {
            writes = .none
        } else if all {
            writes = .own
        } else {
            writes = keyValuePlan(step: index, running: tokens ?? [])
        }
        let begin = DispatchTime.now().uptimeNanoseconds
        try model.decoderLayer(step.layer, rows, cache: cache, writes: writes, state: state, lora: stepLoRA)
        let elapsed = milliseconds(since: begin) / Double(max(n, 1))
        if !all { for r in 0..<n { row(states, rowTokens[r]).update(from: gathered.pointer + r * d, count: d) } }

        if case .plan(let entries) = writes {
            for entry in entries {
                guard case .state = entry.source else { continue }
                records[entry.token].flops += model.keyValueFlops + (stepLoRA?.keyValueFlops ?? 0)
            }
        }
        guard n > 0 else { return }
        let span = capture.contains(.attention)
        for r in 0..<n {
            let token = rows.token(r)
            records[token].flops += model.decoderLayerFlops(attendedRows: state.attendedRows[r]) + (stepLoRA?.flops ?? 0)
            if other != nil { records[token].flops -= model.keyValueFlops + (stepLoRA?.keyValueFlops ?? 0) }
            var trace = StepTrace(
                step: index, block: step.block, layer: step.layer, recursion: step.recursion, timeMs: elapsed)
            if span {
                trace.attention = state.attentionByPosition(row: r, cache: cache, span: start + token + 1)
            }
            records[token].steps.append(trace)
        }
        if capture.contains(.lens), !lensLater {
            try grow(&predictions, rows: n)
            model.logits(rows.states, count: n, into: predictions.pointer, state: state)
            for r in 0..<n { captureLens(token: rows.token(r), row: r) }
        }
    }

    /// The rows of step `index`'s cache for the whole batch: the running tokens' own, and
    /// for the others what they left for later steps (`stop`).
    private func keyValuePlan(step index: Int, running tokens: [Int]) -> KeyValueWrites {
        var entries = 0
        var next = 0
        var ownOnly = true
        for token in 0..<count {
            if next < tokens.count, tokens[next] == token {
                plan[entries] = KeyValueEntry(token: token, source: .row(next))
                entries += 1
                next += 1
                continue
            }
            switch skipped[token] {
            case .none:
                continue
            case .state(let exitState):
                plan[entries] = KeyValueEntry(token: token, source: .state(exitState))
            case .latest(let loops):
                let loopSteps = stepsByLoop[index]
                guard loops >= 1, loops <= loopSteps.count, loopSteps[loops - 1] >= 0,
                    let source = caches[loopSteps[loops - 1]], let row = source.row(of: start + token)
                else { continue }
                plan[entries] = KeyValueEntry(token: token, source: .copy(Unmanaged.passUnretained(source), row: row))
            }
            entries += 1
            ownOnly = false
        }
        return ownOnly ? .own : .plan(UnsafeBufferPointer(rebasing: plan[0..<entries]))
    }

    /// Batch token `token` runs no further step: later steps' caches get what the KV policy
    /// gives a stopped token, from `exitState` (state propagation) or its last loop.
    func stop(_ token: Int, exitState: UnsafePointer<Float>?, loops: Int = 0) {
        switch architecture.kv {
        case .propagate: skipped[token] = exitState.map(SkippedKeyValues.state) ?? .none
        case .latest: skipped[token] = .latest(loops: loops)
        case .full, .recursionWise, .recursiveSharing: skipped[token] = .none
        }
    }

    /// predictions[r] = logits of `tokens[r]`'s row of `states` (through the final norm and
    /// head), counted as policy work.
    func headLogits(_ tokens: [Int], _ states: FloatVector) throws {
        try grow(&predictions, rows: tokens.count)
        model.logits(gather(tokens, states), count: tokens.count, into: predictions.pointer, state: state)
        for token in tokens { records[token].flops += model.logitsFlops }
    }

    /// The rows of `tokens` in `states`, contiguous (the buffer itself when they are all).
    func gather(_ tokens: [Int], _ states: FloatVector, width: Int? = nil) -> UnsafeMutablePointer<Float> {
        let d = width ?? model.config.hiddenSize
        guard tokens.count != count else { return states.pointer }
        for (r, token) in tokens.enumerated() {
            (gathered.pointer + r * d).update(from: states.pointer + token * d, count: d)
        }
        return gathered.pointer
    }

    /// Row r of `predictions`.
    func prediction(_ r: Int) -> UnsafeMutablePointer<Float> {
        predictions.pointer + r * model.config.vocabSize
    }

    /// The token's next-token logits are prediction row `r` (a policy that computed them).
    func setOutput(_ token: Int, prediction r: Int) {
        let vocabulary = model.config.vocabSize
        if keeps(token) { (outputLogits.pointer + outputRow(token) * vocabulary).update(from: prediction(r), count: vocabulary) }
        outputReady[token] = true
    }

    /// The token's next-token logits come from this state (default: its hidden row).
    func setOutput(_ token: Int, state: UnsafePointer<Float>) {
        outputState[token] = state
    }

    /// Sets the lens of the token's last step to the top 5 of prediction row `r` (capture only).
    func captureLens(token: Int, row r: Int) {
        guard capture.contains(.lens), !records[token].steps.isEmpty else { return }
        let vocabulary = model.config.vocabSize
        records[token].steps[records[token].steps.count - 1].lens = topCandidates(prediction(r), count: vocabulary, limit: 5)
    }

    /// The policy's score after the token's last recorded step.
    func scoreLastStep(_ token: Int, _ score: Float?) {
        guard !records[token].steps.isEmpty else { return }
        records[token].steps[records[token].steps.count - 1].score = score
    }

    /// The argmax_stable criterion's value: for how many steps in a row the token's
    /// prediction (log-probabilities) has kept its argmax (1 at its first step).
    func argmaxRun(_ token: Int, _ logProbabilities: UnsafePointer<Float>, firstStep: Bool) -> Int {
        let top = argmax(logProbabilities, count: model.config.vocabSize)
        tokenCounts[token] = !firstStep && top == tokenArgmax[token] ? tokenCounts[token] + 1 : 1
        tokenArgmax[token] = top
        return tokenCounts[token]
    }

    func setExit(_ token: Int, _ exit: ExitDecision) { records[token].exit = exit }
    func addRouterProbability(_ token: Int, _ probability: Float) { records[token].routerProbabilities.append(probability) }
    func addFlops(_ token: Int, _ flops: Double) { records[token].flops += flops }
    func stepsRun(_ token: Int) -> Int { records[token].steps.count }

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

    /// Computes the kept tokens' logits from their output states, where the policy has not.
    private func computeKeptLogits(_ tokens: Range<Int>) throws {
        let vocabulary = model.config.vocabSize, d = model.config.hiddenSize
        if tokens.allSatisfy({ !outputReady[$0] && outputState[$0] == nil }) {
            // The usual case: the hidden rows themselves, straight into the kept rows.
            model.logits(
                row(hidden, tokens.lowerBound), count: tokens.count,
                into: outputLogits.pointer + outputRow(tokens.lowerBound) * vocabulary, state: state)
            return
        }
        var missing = 0
        for token in tokens where !outputReady[token] {
            (gathered.pointer + missing * d).update(from: outputState[token] ?? UnsafePointer(row(hidden, token)), count: d)
            rowTokens[missing] = token
            missing += 1
        }
        guard missing > 0 else { return }
        try grow(&predictions, rows: missing)
        model.logits(gathered.pointer, count: missing, into: predictions.pointer, state: state)
        for r in 0..<missing {
            (outputLogits.pointer + outputRow(rowTokens[r]) * vocabulary).update(from: prediction(r), count: vocabulary)
        }
    }

    /// For each step, the step index of the same stored layer at each loop (-1: none).
    private static func loopTable(_ schedule: Schedule) -> [[Int]] {
        let loops = (schedule.steps.map(\.recursion).max() ?? 0) + 1
        return schedule.steps.map { step in
            guard step.block != .prelude else { return [] }
            return (0..<loops).map { schedule.index(layer: step.layer, recursion: $0) ?? -1 }
        }
    }
}

/// What a stopped token gives the caches of the steps it skipped.
enum SkippedKeyValues {
    case none
    /// Keys and values computed from its exit state.
    case state(UnsafePointer<Float>)
    /// Its rows from the last loop it ran.
    case latest(loops: Int)
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
    public var exit = ExitDecision(reason: .fullDepth, steps: 0, maxSteps: 0)
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
