import Foundation
import Testing
import Engine
@testable import Workbench

@Suite struct TraceFileTests {
    func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("depthscope-\(getpid())-\(name)").path
    }

    @Test func roundTripsAndUsesSnakeCaseKeys() throws {
        let traces = SyntheticTraces.make(continuation: "Hi there")
        let path = temporaryPath("rt.jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TraceFile.write(traces, to: path)
        #expect(try TraceFile.read(path) == traces)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count == traces.count)
        for key in ["\"is_prompt\"", "\"time_ms\"", "\"router_probabilities\"", "\"full_depth_flops\"",
                    "\"kv_cache_bytes\"", "\"max_steps\""] {
            #expect(lines[3].contains(key), "\(key)")
        }
        // Every line is a JSON object on its own (what pandas.read_json(lines=True) needs).
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            #expect(object is [String: Any])
        }
    }

    @Test func nonFiniteScoresSurvive() throws {
        var t = SyntheticTraces.make(continuation: "a")[0]
        t.exit.score = .infinity
        let path = temporaryPath("inf.jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TraceFile.write([t], to: path)
        #expect(try TraceFile.read(path)[0].exit.score == .infinity)
    }

    @Test func errorsNameFileAndLine() throws {
        let good = String(decoding: try TraceFile.encodeLine(SyntheticTraces.make(continuation: "a")[0]), as: UTF8.self)
        let cases: [(String, String)] = [
            (good + "\n\n{not json\n", ":3: not a JSON object"),
            ("{\"position\": 0}\n", ":1: missing key \"id\""),
            (good + "\n" + good.replacingOccurrences(of: "\"is_prompt\":true", with: "\"is_prompt\":3") + "\n",
             ":2: is_prompt: expected Bool"),
            ("\n  \n", ": trace file has no tokens"),
        ]
        for (i, (content, suffix)) in cases.enumerated() {
            let path = temporaryPath("bad\(i).jsonl")
            defer { try? FileManager.default.removeItem(atPath: path) }
            try content.write(toFile: path, atomically: true, encoding: .utf8)
            do {
                _ = try TraceFile.read(path)
                Issue.record("case \(i) should fail")
            } catch let error as EngineError {
                #expect(error.message == path + suffix)
            }
        }
        #expect(throws: EngineError("/nonexistent/t.jsonl: no such trace file")) {
            try TraceFile.read("/nonexistent/t.jsonl")
        }
    }
}
