/// The contract between the engine and everything that shows or stores what it did.
///
/// One `TokenTrace` per token (prompt tokens and generated tokens alike). The TUI reads
/// only traces; the JSONL trace file is one encoded `TokenTrace` per line (snake_case
/// keys, see README "Trace format"), readable with `pandas.read_json(path, lines=True)`.
///
/// Semantics worth knowing:
/// - A token's `steps` are the depth steps its own hidden state went through. The logit
///   lens of a step is the model's prediction for the *next* token after that step.
/// - `alternatives` is the distribution this token was drawn from (computed at the
///   previous position): the top candidates with their probabilities, so a viewer can show
///   what else the model could have said here. Empty for the first prompt token.
/// - Optional fields are absent when the architecture has no such thing (no router) or
///   when capture is switched off (attention, logit lens).
public struct TokenTrace: Codable, Sendable, Equatable {
    /// Position of the token in the sequence (0-based; prompt tokens first).
    public var position: Int
    public var id: Int
    /// The token's text as it appears in the stream (complete UTF-8; may be empty when a
    /// multi-byte character is split across tokens and completes in a later one).
    public var text: String
    public var isPrompt: Bool
    /// Every depth step executed for this token, in order.
    public var steps: [StepTrace]
    /// Why the token stopped where it did.
    public var exit: ExitDecision
    /// Router probabilities, one per routing decision (MoR expert-choice: one per recursion
    /// step, the sigmoid score; token-choice: the softmax over depths).
    public var routerProbabilities: [Float]?
    /// Top candidates of the distribution this token was drawn from (see type comment).
    public var alternatives: [Candidate]
    /// Probability the model gave to this token when it was chosen (nil for position 0).
    public var probability: Float?
    /// Wall time of this token's forward pass, milliseconds.
    public var timeMs: Double
    /// Floating-point operations spent on this token, and what full depth would have cost.
    public var flops: Double
    public var fullDepthFlops: Double
    /// Bytes held by the KV cache after this token.
    public var kvCacheBytes: Int

    public init(
        position: Int, id: Int, text: String, isPrompt: Bool, steps: [StepTrace],
        exit: ExitDecision, routerProbabilities: [Float]? = nil, alternatives: [Candidate] = [],
        probability: Float? = nil, timeMs: Double = 0, flops: Double = 0,
        fullDepthFlops: Double = 0, kvCacheBytes: Int = 0
    ) {
        self.position = position
        self.id = id
        self.text = text
        self.isPrompt = isPrompt
        self.steps = steps
        self.exit = exit
        self.routerProbabilities = routerProbabilities
        self.alternatives = alternatives
        self.probability = probability
        self.timeMs = timeMs
        self.flops = flops
        self.fullDepthFlops = fullDepthFlops
        self.kvCacheBytes = kvCacheBytes
    }

    /// Number of depth steps this token executed.
    public var depth: Int { steps.count }
}

/// One executed depth step: which weights ran, at which recursion, and what it produced.
public struct StepTrace: Codable, Sendable, Equatable {
    /// Index of the step in the architecture's schedule (0-based).
    public var step: Int
    /// Part of the schedule: "layer" (plain stack), "prelude", "core", "coda".
    public var block: BlockKind
    /// Index of the stored layer whose weights ran (into the checkpoint's layers).
    public var layer: Int
    /// Recursion (loop) index; 0 for non-recursive schedules.
    public var recursion: Int
    /// Wall time of the step, milliseconds.
    public var timeMs: Double
    /// The depth policy's score after this step (router score, confidence, halting sum,
    /// KL...), when the policy computed one here.
    public var score: Float?
    /// Logit lens: top-5 next-token predictions through the final norm and head.
    public var lens: [Candidate]?
    /// Attention of this token over positions 0...position, one row per head
    /// (`attention[head][key]`); keys absent from this step's cache have weight 0.
    public var attention: [[Float]]?

    public init(
        step: Int, block: BlockKind, layer: Int, recursion: Int, timeMs: Double = 0,
        score: Float? = nil, lens: [Candidate]? = nil, attention: [[Float]]? = nil
    ) {
        self.step = step
        self.block = block
        self.layer = layer
        self.recursion = recursion
        self.timeMs = timeMs
        self.score = score
        self.lens = lens
        self.attention = attention
    }
}

/// A next-token candidate: id, text and probability.
public struct Candidate: Codable, Sendable, Equatable {
    public var id: Int
    public var text: String
    public var probability: Float

    public init(id: Int, text: String, probability: Float) {
        self.id = id
        self.text = text
        self.probability = probability
    }
}

/// The decision that ended a token's depth.
public struct ExitDecision: Codable, Sendable, Equatable {
    /// Why it stopped.
    public var reason: ExitReason
    /// The criterion that decided, e.g. "softmax_max", "top2_margin", "cosine", "kl",
    /// "argmax_stable", "entropy_diff", "latent_diff", "sigmoid_router", "act".
    public var criterion: String?
    /// The deciding value and the threshold it was compared with.
    public var score: Float?
    public var threshold: Float?
    /// Steps executed, and the most this architecture could have executed.
    public var steps: Int
    public var maxSteps: Int

    public init(
        reason: ExitReason, criterion: String? = nil, score: Float? = nil,
        threshold: Float? = nil, steps: Int, maxSteps: Int
    ) {
        self.reason = reason
        self.criterion = criterion
        self.score = score
        self.threshold = threshold
        self.steps = steps
        self.maxSteps = maxSteps
    }
}

/// Why a token stopped where it did (the trace's `exit.reason`).
public enum ExitReason: String, Codable, Sendable, CaseIterable {
    /// It ran every step.
    case fullDepth = "full_depth"
    /// A MoR router score fell below the threshold.
    case router
    /// A token-choice router picked this depth.
    case routerChoice = "router_choice"
    /// An early-exit criterion passed.
    case confidence
    /// ACT's cumulative halting probability reached 1 - epsilon.
    case halted
    /// A recurrent-depth exit criterion passed.
    case converged
    /// The policy's most steps (max_depth, ACT's max_steps) before full depth.
    case maxSteps = "max_steps"
}

/// The part of a schedule a step belongs to (the trace's `steps[].block`).
public enum BlockKind: String, Codable, Sendable, CaseIterable {
    /// A layer of a plain or recursive stack.
    case layer
    /// Recurrent depth's prelude, looped core and coda.
    case prelude
    case core
    case coda
}
