import Testing
import Engine
@testable import Workbench

@Suite struct PaletteCommandTests {
    @Test func parsesTheIssueExamples() throws {
        #expect(try PaletteCommand.parse("arch mor threshold=0.6") == .architecture("mor threshold=0.6"))
        #expect(try PaletteCommand.parse("theme gruvbox") == .theme("gruvbox"))
        #expect(try PaletteCommand.parse("model shakespeare-vanilla") == .model("shakespeare-vanilla"))
        #expect(try PaletteCommand.parse("save trace.jsonl") == .save("trace.jsonl"))
        #expect(try PaletteCommand.parse("  compare mor threshold=0.7 ") == .compare("mor threshold=0.7"))
        #expect(try PaletteCommand.parse("compare off") == .compare(nil))
        #expect(try PaletteCommand.parse("prompt ROMEO:\\n") == .prompt("ROMEO:\n"))
        #expect(try PaletteCommand.parse("seed 7") == .sample([.seed(7)]))
        #expect(try PaletteCommand.parse("sample temperature=0 top_k=40") == .sample([.temperature(0), .topK(40)]))
        #expect(try PaletteCommand.parse("preset 2") == .preset(1))
        #expect(try PaletteCommand.parse("sparkline ascii") == .sparkline(.ascii))
        #expect(try PaletteCommand.parse("q") == .quit)
    }

    @Test func errorsAreOneLineAndSayWhatIsWrong() {
        let cases: [(String, String)] = [
            ("", "empty command"),
            ("arch", ":arch needs an architecture"),
            ("arch threshold=0.6", "starts with an option"),
            ("arch mor threshold", "option \"threshold\" is not key=value"),
            ("sample top_p=2", "top_p=2: expected a number in 0.0...1.0"),
            ("sample warmth=1", "warmth: unknown sampling setting"),
            ("seed -1", "seed=-1: expected a whole number"),
            ("preset 9", ":preset 9: expected 1-4"),
            ("sparkline dots", ":sparkline dots: expected braille, block or ascii"),
            ("pause now", ":pause takes no argument"),
            ("launch", ":launch: unknown command"),
        ]
        for (input, fragment) in cases {
            do {
                _ = try PaletteCommand.parse(input)
                Issue.record("\(input) should fail")
            } catch let error as EngineError {
                #expect(error.message.contains(fragment), "\(input): \(error.message)")
                #expect(!error.message.contains("\n"))
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test func completion() {
        #expect(PaletteCommand.complete("ar") == "arch ")
        #expect(PaletteCommand.complete("s") == "s", "save, sample, seed, sparkline, step share only s")
        #expect(PaletteCommand.complete("sp") == "sparkline ")
        #expect(PaletteCommand.complete("res") == "res")
        #expect(PaletteCommand.complete("rest") == "restart")
        #expect(PaletteCommand.complete("zzz") == nil)
        #expect(PaletteCommand.complete("arch m") == nil)
    }

    @Test func architectureSpecs() throws {
        let spec = try ArchitectureSpec.parse("mor  threshold=0.6 kv=share")
        #expect(spec.name == "mor")
        #expect(spec.value("threshold") == "0.6")
        #expect(spec.setting("threshold", "0.7").description == "mor threshold=0.7 kv=share")
        #expect(spec.setting("r", "3").description == "mor threshold=0.6 kv=share r=3")
        #expect(throws: EngineError.self) { try ArchitectureSpec.parse("   ") }
    }

    @Test func samplerDescriptionRoundTrips() throws {
        var settings = FakeEngine.defaultSettings
        settings.sampler = SamplerSettings(temperature: 0.7, topK: 40, topP: 0.95, minP: 0.05, repetitionPenalty: 1.1, seed: 9)
        settings.maxNewTokens = 64
        let text = SamplerChange.describe(settings)
        guard case let .sample(changes) = try PaletteCommand.parse(text) else {
            Issue.record("not a sample command")
            return
        }
        var rebuilt = FakeEngine.defaultSettings
        for c in changes { c.apply(to: &rebuilt) }
        #expect(rebuilt == settings)
    }

    @Test func textFieldEditing() {
        var f = TextField("helo")
        _ = f.edit(.left)
        _ = f.edit(.char("l"))
        #expect(f.text == "hello" && f.cursor == 4)
        _ = f.edit(.home)
        _ = f.edit(.delete)
        #expect(f.text == "ello")
        _ = f.edit(.end)
        _ = f.edit(.backspace)
        #expect(f.text == "ell")
        let refused = f.edit(.control("j"))
        #expect(!refused, "newline only where allowed")
        let accepted = f.edit(.control("j"), allowNewline: true)
        #expect(accepted && f.text == "ell\n")
        _ = f.edit(.control("u"))
        #expect(f.text == "" && f.cursor == 0)
    }
}
