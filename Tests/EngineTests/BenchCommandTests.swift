import Foundation
import Testing

@testable import Engine

/// `depthscope bench`: what it reports and how it refuses bad input (no timing checks:
/// the numbers themselves belong to the benchmark, not to tests).
@Suite struct BenchCommandTests {
    static let tiny = ["--random", "64x1x2x64", "--vocab", "64", "--tokens", "2", "--runs", "1", "--prompt-tokens", "3"]

    @Test func jsonLinesOnePerFormatAndThreadCount() throws {
        let result = try Depthscope.run(["bench"] + Self.tiny + ["--dtype", "f32,q8_0", "--threads", "1,2", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.text.split(separator: "\n")
        #expect(lines.count == 4)
        var seen: [(String, Int)] = []
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let dtype = try #require(object["dtype"] as? String)
            let threads = try #require(object["threads"] as? Int)
            seen.append((dtype, threads))
            let decode = try #require(object["decode_tokens_per_second"] as? Double)
            let bound = try #require(object["bound_tokens_per_second"] as? Double)
            let fraction = try #require(object["bound_fraction"] as? Double)
            #expect(decode > 0 && bound > 0 && abs(fraction - decode / bound) < 1e-9)
            #expect((object["prompt_tokens"] as? Int) == 3 && (object["decode_tokens"] as? Int) == 2)
            #expect((object["decode_runs_tokens_per_second"] as? [Double])?.count == 1)
            // Weight bytes per token: 7 layer matrices + the tied head, as stored, + norms in f32.
            let elements = 4 * 64 * 64 + 3 * 64 * 64 + 64 * 64
            let matrixBytes = dtype == "F32" ? elements * 4 : elements / 32 * 34
            #expect((object["weight_bytes_per_token"] as? Int) == matrixBytes + 3 * 64 * 4)
        }
        #expect(seen.map(\.0) == ["F32", "F32", "Q8_0", "Q8_0"] && seen.map(\.1) == [1, 2, 1, 2])
    }

    @Test func architectureRunsReportMeanDepth() throws {
        let result = try Depthscope.run(
            ["bench", "--model", "shakespeare-mor", "--arch", "mor", "--arch-option", "threshold=0", "--tokens", "3",
             "--runs", "1", "--prompt-tokens", "2", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let maxDepth = try #require(object["max_depth"] as? Int)
        // Threshold 0: every token runs every recursion.
        #expect((object["mean_depth"] as? Double) == Double(maxDepth))
        #expect((object["architecture"] as? String)?.hasPrefix("mor") == true)
    }

    @Test(arguments: [
        (["--random", "64x1x3x64"], "not a valid shape"),
        (["--random", "64x1x2"], "is not DIMxLAYERSxHEADSxFFN"),
        (["--random", "64x1x2x64", "--dtype", "f8"], "--dtype: 'f8' is not valid"),
        (["--random", "64x1x2x64", "--threads", "0"], "--threads: '0' is not valid"),
        (["--model", "/nonexistent/model"], "/nonexistent/model"),
    ])
    func badInputIsOneLineError(arguments: [String], message: String) throws {
        let result = try Depthscope.run(["bench", "--vocab", "64"] + arguments)
        #expect(result.status == 1 && result.exitedNormally)
        #expect(result.stderrLines.count == 1)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
