/// Early exit on any plain, recursive, relaxed or converted schedule (CALM, LayerSkip;
/// docs/architectures.md 4.4): after every step a confidence criterion is computed from the
/// state and its logit lens; the token stops once it passes (after `min_depth`), or at
/// `max_depth`. The exit state goes straight to the final norm and head; skipped steps get
/// K/V from it (`propagate`) or stay empty (`recursion_wise`).
public enum EarlyExitCriterion: String, Sendable, CaseIterable {
    /// max_i p[i] > threshold.
    case softmaxMax = "softmax_max"
    /// p[top1] - p[top2] > threshold.
    case top2Margin = "top2_margin"
    /// cos(h_d, h_{d-1}) > threshold.
    case cosine
    /// KL(p_d || p_{d-1}) < threshold.
    case kl
    /// The argmax has stayed the same for more than `threshold` steps.
    case argmaxStable = "argmax_stable"

    public var comparison: ExitComparison { self == .kl ? .less : .greater }

    public var defaultThreshold: Double {
        switch self {
        case .softmaxMax: 0.9
        case .top2Margin: 0.8
        case .cosine: 0.99
        case .kl: 0.01
        case .argmaxStable: 2
        }
    }

    public var range: ClosedRange<Double> {
        switch self {
        case .softmaxMax, .top2Margin: 0...1
        case .cosine: -1...1
        case .kl: 0...Double.infinity
        case .argmaxStable: 1...Double.infinity
        }
    }

    /// Whether the value needs the previous step (never passes at the first step).
    var comparesSteps: Bool { self == .cosine || self == .kl || self == .argmaxStable }
}

extension DepthRunner {
    func runEarlyExit(_ settings: EarlyExitSettings) throws -> FloatVector {
        let steps = schedule.count
        let criterion = settings.criterion
        var run = 0
        var previousArgmax = -1
        var exit: ExitDecision?
        var depth = 0
        var logits = state.logits
        while depth < steps, exit == nil {
            depth += 1
            if criterion == .cosine { previousHidden.copy(from: hidden) }
            try runStep(depth - 1, hidden, lensLater: true)
            logits = headLogits(hidden)
            captureLens(logits)
            swap(&logProbabilities, &previousLogProbabilities)
            logSoftmax(logits, into: logProbabilities)
            var value: Double?
            switch criterion {
            case .softmaxMax:
                value = Double(expf(maximum(logProbabilities)))
            case .top2Margin:
                let (first, second) = topTwo(logProbabilities)
                value = Double(expf(first)) - Double(expf(second))
            case .cosine where depth > 1:
                value = cosine(hidden, previousHidden)
            case .kl where depth > 1:
                value = klDivergence(logProbabilities, from: previousLogProbabilities)
            case .argmaxStable:
                let top = argmax(logProbabilities)
                run = depth > 1 && top == previousArgmax ? run + 1 : 1
                previousArgmax = top
                value = Double(run)
            default:
                value = nil
            }
            scoreLastStep(value.map(Float.init))
            if depth >= settings.minDepth, let value, criterion.comparison.passes(value, settings.threshold) {
                exit = ExitDecision(
                    reason: "confidence", criterion: criterion.rawValue, score: Float(value),
                    threshold: Float(settings.threshold), steps: depth, maxSteps: steps)
            } else if depth == settings.maxDepth {
                exit = ExitDecision(
                    reason: depth == steps ? "full_depth" : "max_steps", criterion: criterion.rawValue,
                    score: value.map(Float.init), threshold: Float(settings.threshold), steps: depth, maxSteps: steps)
            }
        }
        if architecture.kv == .propagate { try propagate(hidden, toSteps: depth..<steps) }
        record.exit = exit ?? ExitDecision(reason: "full_depth", steps: depth, maxSteps: steps)
        return logits
    }
}

// MARK: - Distribution helpers (f32 log-probabilities, sums in f64)

/// out = log_softmax(logits).
func logSoftmax(_ logits: FloatVector, into out: FloatVector) {
    let n = logits.count
    let x = logits.pointer
    var top = x[0]
    for i in 1..<n where x[i] > top { top = x[i] }
    var total: Float = 0
    for i in 0..<n { total += expf(x[i] - top) }
    let shift = top + logf(total)
    let y = out.pointer
    for i in 0..<n { y[i] = x[i] - shift }
}

func maximum(_ v: FloatVector) -> Float {
    var best = v[0]
    for i in 1..<v.count where v[i] > best { best = v[i] }
    return best
}

/// Index of the largest value; the lowest index on ties.
func argmax(_ v: FloatVector) -> Int {
    var best = 0
    for i in 1..<v.count where v[i] > v[best] { best = i }
    return best
}

/// The two largest values (the second is -inf for a single value).
func topTwo(_ v: FloatVector) -> (Float, Float) {
    var first = -Float.infinity
    var second = -Float.infinity
    for i in 0..<v.count {
        let x = v[i]
        if x > first {
            second = first
            first = x
        } else if x > second {
            second = x
        }
    }
    return (first, second)
}

/// KL(p || q) = sum p (log p - log q) from log-probabilities.
func klDivergence(_ logP: FloatVector, from logQ: FloatVector) -> Double {
    var total: Double = 0
    for i in 0..<logP.count {
        let lp = logP[i]
        total += Double(expf(lp)) * Double(lp - logQ[i])
    }
    return total
}

/// H(p) = -sum p log p, nats.
func entropy(_ logP: FloatVector) -> Double {
    var total: Double = 0
    for i in 0..<logP.count {
        let lp = logP[i]
        if lp > -Float.infinity { total -= Double(expf(lp)) * Double(lp) }
    }
    return total
}

func cosine(_ a: FloatVector, _ b: FloatVector) -> Double {
    var dot: Double = 0
    var aa: Double = 0
    var bb: Double = 0
    for i in 0..<a.count {
        dot += Double(a[i]) * Double(b[i])
        aa += Double(a[i]) * Double(a[i])
        bb += Double(b[i]) * Double(b[i])
    }
    return dot / max((aa * bb).squareRoot(), 1e-8)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
