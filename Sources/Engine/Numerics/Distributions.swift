#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Next-token distributions for exit criteria and traces: f32 log-probabilities, sums in f64.

/// out = log_softmax(logits) over `count` values.
func logSoftmax(_ logits: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count n: Int) {
    var top = logits[0]
    for i in 1..<n where logits[i] > top { top = logits[i] }
    var total: Float = 0
    for i in 0..<n { total += expf(logits[i] - top) }
    let shift = top + logf(total)
    for i in 0..<n { out[i] = logits[i] - shift }
}

/// log softmax(logits)[token], in f64.
func logSoftmax(of token: Int, _ logits: UnsafePointer<Float>, count: Int) -> Double {
    var maximum = logits[0]
    for i in 1..<count where logits[i] > maximum { maximum = logits[i] }
    let top = Double(maximum)
    var total = 0.0
    for i in 0..<count { total += exp(Double(logits[i]) - top) }
    return Double(logits[token]) - top - log(total)
}

/// softmax(logits)[token].
func softmaxProbability(of token: Int, _ logits: UnsafePointer<Float>, count: Int) -> Float {
    let (maximum, total) = softmaxDenominator(logits, count: count)
    return Float(Double(expf(logits[token] - maximum)) / total)
}

func maximum(_ v: UnsafePointer<Float>, count: Int) -> Float {
    var best = v[0]
    for i in 1..<count where v[i] > best { best = v[i] }
    return best
}

/// Index of the largest value; the lowest index on ties.
func argmax(_ v: UnsafePointer<Float>, count: Int) -> Int {
    var best = 0
    for i in 1..<count where v[i] > v[best] { best = i }
    return best
}

/// The two largest values (the second is -inf for a single value).
func topTwo(_ v: UnsafePointer<Float>, count: Int) -> (Float, Float) {
    var first = -Float.infinity
    var second = -Float.infinity
    for i in 0..<count {
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
func klDivergence(_ logP: UnsafePointer<Float>, from logQ: UnsafePointer<Float>, count: Int) -> Double {
    var total: Double = 0
    for i in 0..<count {
        let lp = logP[i]
        total += Double(expf(lp)) * Double(lp - logQ[i])
    }
    return total
}

/// H(p) = -sum p log p, nats.
func entropy(_ logP: UnsafePointer<Float>, count: Int) -> Double {
    var total: Double = 0
    for i in 0..<count {
        let lp = logP[i]
        if lp > -Float.infinity { total -= Double(expf(lp)) * Double(lp) }
    }
    return total
}

func cosine(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
    var dot: Double = 0
    var aa: Double = 0
    var bb: Double = 0
    for i in 0..<count {
        dot += Double(a[i]) * Double(b[i])
        aa += Double(a[i]) * Double(a[i])
        bb += Double(b[i]) * Double(b[i])
    }
    return dot / max((aa * bb).squareRoot(), 1e-8)
}

/// ||a - b|| / ||a|| (L2) over `count` values.
func relativeDifference(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
    var difference: Double = 0
    var norm: Double = 0
    for i in 0..<count {
        let delta = Double(a[i] - b[i])
        difference += delta * delta
        norm += Double(a[i]) * Double(a[i])
    }
    return difference.squareRoot() / max(norm.squareRoot(), 1e-30)
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
