import Foundation
import Testing

@testable import Engine

@Suite struct SamplerTests {
    /// Logits whose softmax is exactly `probabilities` (at temperature 1).
    func logits(_ probabilities: [Float]) -> [Float] { probabilities.map { logf($0) } }

    func draw(_ logits: [Float], _ parameters: SamplingParameters, count: Int, history: [Int] = []) -> [Int] {
        var sampler = Sampler(parameters: parameters, vocabularySize: logits.count)
        return (0..<count).map { _ in logits.withUnsafeBufferPointer { sampler.sample(logits: $0.baseAddress!, history: history) } }
    }

    func frequencies(_ tokens: [Int], vocabulary: Int) -> [Double] {
        var counts = [Double](repeating: 0, count: vocabulary)
        for token in tokens { counts[token] += 1 }
        return counts.map { $0 / Double(tokens.count) }
    }

    @Test func greedyIsArgmaxWithFirstOnTies() {
        #expect(draw([0.1, 3, -2, 3], .greedy, count: 3) == [1, 1, 1])
    }

    @Test func temperatureOneFollowsSoftmax() {
        let tokens = draw(logits([0.5, 0.3, 0.2]), SamplingParameters(seed: 11), count: 20_000)
        let observed = frequencies(tokens, vocabulary: 3)
        for (seen, want) in zip(observed, [0.5, 0.3, 0.2]) { #expect(abs(seen - want) < 0.015) }
    }

    @Test func lowTemperatureSharpens() {
        let tokens = draw(logits([0.5, 0.3, 0.2]), SamplingParameters(temperature: 0.25, seed: 3), count: 5_000)
        // p ~ p^4 normalised: 0.0625 / (0.0625 + 0.0081 + 0.0016) = 0.866
        #expect(abs(frequencies(tokens, vocabulary: 3)[0] - 0.866) < 0.02)
    }

    @Test func topKKeepsTheKMostLikely() {
        let tokens = draw(logits([0.4, 0.1, 0.3, 0.2]), SamplingParameters(topK: 2, seed: 5), count: 5_000)
        let observed = frequencies(tokens, vocabulary: 4)
        #expect(observed[1] == 0 && observed[3] == 0)
        #expect(abs(observed[0] - 4.0 / 7.0) < 0.02)
        #expect(draw(logits([0.4, 0.1, 0.3, 0.2]), SamplingParameters(topK: 1, seed: 5), count: 50).allSatisfy { $0 == 0 })
    }

    @Test func topPKeepsTheSmallestSetReachingP() {
        let probabilities: [Float] = [0.5, 0.3, 0.2]
        let two = frequencies(draw(logits(probabilities), SamplingParameters(topP: 0.7, seed: 2), count: 5_000), vocabulary: 3)
        #expect(two[2] == 0 && two[1] > 0.3)
        let one = draw(logits(probabilities), SamplingParameters(topP: 0.5, seed: 2), count: 200)
        #expect(one.allSatisfy { $0 == 0 })
    }

    @Test func minPDropsTokensFarBelowTheBest() {
        // min_p 0.5: keep p >= 0.25 -> tokens 0 and 1 only.
        let observed = frequencies(
            draw(logits([0.5, 0.3, 0.2]), SamplingParameters(minP: 0.5, seed: 9), count: 5_000), vocabulary: 3)
        #expect(observed[2] == 0 && abs(observed[0] - 0.625) < 0.02)
    }

    @Test func repetitionPenaltyAsHF() {
        // Positive logits are divided, negative ones multiplied; each token once.
        #expect(draw([2, 1.9, -1], SamplingParameters(temperature: 0, repetitionPenalty: 2), count: 1, history: [0, 0]) == [1])
        #expect(draw([-1, -1.5, -3], SamplingParameters(temperature: 0, repetitionPenalty: 2), count: 1, history: [0]) == [1])
        #expect(draw([2, 1.9, -1], SamplingParameters(temperature: 0, repetitionPenalty: 2), count: 1, history: [2]) == [0])
    }

    @Test func sameSeedSameTokensOtherSeedOthers() {
        let spread = logits([Float](repeating: 1.0 / 50, count: 50))
        let first = draw(spread, SamplingParameters(seed: 42), count: 64)
        #expect(first == draw(spread, SamplingParameters(seed: 42), count: 64))
        #expect(first != draw(spread, SamplingParameters(seed: 43), count: 64))
    }

    /// Integer-only arithmetic, so the same seed gives the same stream on every machine.
    @Test func seededRandomIsDeterministic() {
        var random = SeededRandom(seed: 0)
        var again = SeededRandom(seed: 0)
        let values = (0..<4).map { _ in random.next() }
        #expect(values == (0..<4).map { _ in again.next() })
        #expect(Set(values).count == 4)
        for _ in 0..<1000 {
            let unit = random.nextUnitFloat()
            #expect(unit >= 0 && unit < 1)
        }
    }

    @Test func invalidParametersNameTheOption() {
        expectEngineError(containing: ["--temperature"]) { try SamplingParameters(temperature: -1).validate() }
        expectEngineError(containing: ["--top-p"]) { try SamplingParameters(topP: 0).validate() }
        expectEngineError(containing: ["--top-k"]) { try SamplingParameters(topK: -2).validate() }
        expectEngineError(containing: ["--min-p"]) { try SamplingParameters(minP: 1.5).validate() }
        expectEngineError(containing: ["--repetition-penalty"]) { try SamplingParameters(repetitionPenalty: 0).validate() }
    }
}
