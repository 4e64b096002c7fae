import Foundation
import Testing

@testable import Engine

/// The real chat templates, rendered and tokenized exactly as transformers'
/// `apply_chat_template` does (training/make_chat_fixtures.py wrote what it gave).
@Suite struct ChatTemplateFixtureTests {
    static let expectations = Result { try ChatExpectations.load() }
    static let templateNames = ["smollm2", "qwen2.5", "qwen3", "llama3.2", "llama3.3", "gemma2", "gemma3",
                                "phi3-mini", "phi3.5", "mistral-v0.1", "mistral-v0.2", "mistral-nemo"]

    @Test func everyTemplateHasCases() throws {
        let expectations = try Self.expectations.get()
        #expect(Set(expectations.templates.keys) == Set(Self.templateNames))
        for name in Self.templateNames {
            let cases = expectations.cases.filter { $0.template == name }
            #expect(cases.filter { $0.text != nil }.count >= 10, "\(name) has too few rendered cases")
        }
    }

    @Test(arguments: templateNames)
    func rendersExactlyAsTransformers(_ name: String) throws {
        let expectations = try Self.expectations.get()
        let info = try #require(expectations.templates[name])
        let template = try #require(try ChatTemplate.load(folder: ChatFixtures.path(info.folder)))
        let file = info.form == "jinja-file" ? "chat_template.jinja" : "tokenizer_config.json"
        for expected in expectations.cases where expected.template == name {
            let messages = try #require(expectations.conversations[expected.conversation])
            if let text = expected.text {
                let rendered = try template.render(messages, addGenerationPrompt: expected.addGenerationPrompt,
                                                   variables: expected.variables, date: ChatFixtures.date)
                expectSameText(rendered, text, expected.label)
            } else {
                // The template refuses the conversation with raise_exception: same message.
                let message = try #require(expected.error)
                expectEngineError(containing: ["chat template (", "\(info.folder)/\(file)", message]) {
                    _ = try template.render(messages, addGenerationPrompt: expected.addGenerationPrompt,
                                            variables: expected.variables, date: ChatFixtures.date)
                }
            }
        }
    }

    @Test(arguments: templateNames)
    func tokenizesExactlyAsTransformers(_ name: String) throws {
        let expectations = try Self.expectations.get()
        let info = try #require(expectations.templates[name])
        let template = try #require(try ChatTemplate.load(folder: ChatFixtures.path(info.folder)))
        let tokenizer = try loadTokenizer(file: ChatFixtures.path(info.tokenizer))
        var checked = 0
        for expected in expectations.cases where expected.template == name {
            guard let ids = expected.ids else { continue }
            let messages = try #require(expectations.conversations[expected.conversation])
            let encoded = try chatPromptIds(template: template, tokenizer: tokenizer, messages: messages,
                                            addGenerationPrompt: expected.addGenerationPrompt,
                                            variables: expected.variables, date: ChatFixtures.date)
            #expect(encoded == ids, "\(expected.label)")
            checked += 1
        }
        #expect(checked >= 10)
    }

    @Test(arguments: templateNames)
    func loadsTheSpecialTokensOfTheConfig(_ name: String) throws {
        let info = try #require(try Self.expectations.get().templates[name])
        let template = try #require(try ChatTemplate.load(folder: ChatFixtures.path(info.folder)))
        #expect(template.bosToken == info.bosToken)
        #expect(template.eosToken == info.eosToken)
        let file = info.form == "jinja-file" ? "chat_template.jinja" : "tokenizer_config.json"
        #expect(template.origin.hasSuffix("\(info.folder)/\(file)"))
        #expect(try ChatTemplate.load(model: ChatFixtures.path(info.folder))?.source == template.source)
    }

    @Test func templateFormsInTheFixtures() throws {
        // The loading paths the fixtures exercise: string, list with "default", AddedToken
        // objects, chat_template.jinja without a config template.
        let forms = Set(try Self.expectations.get().templates.values.map(\.form))
        #expect(forms == ["string", "list", "added-token-objects", "jinja-file"])
    }

    @Test func chatTemplateJinjaWinsOverTheConfig() throws {
        let expected = try Self.expectations.get().precedence
        let template = try #require(try ChatTemplate.load(folder: ChatFixtures.path("models/precedence")))
        let rendered = try template.render([ChatMessage(role: "user", content: "hi")], addGenerationPrompt: false)
        expectSameText(rendered, expected, "precedence")
        #expect(rendered.hasPrefix("<s>jinja file: hi"))
    }

    @Test func readsTheTemplateFromGGUFMetadata() throws {
        let expectations = try Self.expectations.get()
        let path = ChatFixtures.path(expectations.gguf)
        let template = try #require(try ChatTemplate.load(gguf: GGUFFile(path: path)))
        #expect(template.bosToken == "<|begin_of_text|>")
        #expect(template.eosToken == "<|eot_id|>")
        #expect(template.origin.contains("llama3.2.gguf"))
        let folderTemplate = try #require(try ChatTemplate.load(folder: ChatFixtures.path("models/llama3.2")))
        #expect(template.source == folderTemplate.source)
        // The GGUF holds the llama3.2 fixture's template and tokenizer: same text and ids.
        let tokenizer = try loadTokenizer(file: path)
        var checked = 0
        for expected in expectations.cases where expected.template == "llama3.2" {
            guard let text = expected.text, let ids = expected.ids else { continue }
            let messages = try #require(expectations.conversations[expected.conversation])
            let rendered = try template.render(messages, addGenerationPrompt: expected.addGenerationPrompt,
                                               variables: expected.variables, date: ChatFixtures.date)
            expectSameText(rendered, text, "gguf \(expected.label)")
            let encoded = try chatPromptIds(model: path, tokenizer: tokenizer, messages: messages,
                                            addGenerationPrompt: expected.addGenerationPrompt,
                                            variables: expected.variables, date: ChatFixtures.date)
            #expect(encoded == ids, "gguf \(expected.label)")
            checked += 1
        }
        #expect(checked >= 10)
    }

    /// More real templates (from llama.cpp's models/templates/) with what the twelve above do
    /// not use: int dict keys, a filter block, Markup, the generation tag, macros, gpt-oss.
    @Test func rendersOtherRealTemplatesAsTransformers() throws {
        let root = try ChatFixtures.json("wild_cases.json")
        var sources: [String: String] = [:]
        for (name, node) in try ChatExpectations.members(root.required("templates")) { sources[name] = try node.string() }
        let tokens = ["bos_token": try root.required("bos_token").string(), "eos_token": try root.required("eos_token").string()]
        var rendered = 0
        for node in try ChatExpectations.elements(root.required("cases")) {
            let name = try node.required("template").string()
            let template = try ChatTemplate(source: try #require(sources[name]), origin: name, specialTokens: tokens)
            let messages = try ChatExpectations.elements(node.required("messages")).map {
                ChatMessage(role: try $0.required("role").string(), content: try $0.required("content").string())
            }
            let label = "\(name) \(try node.required("conversation").string())"
            let render = {
                try template.render(messages, addGenerationPrompt: try node.required("add_generation_prompt").bool(),
                                    variables: try ChatExpectations.variables(node.required("variables")),
                                    date: ChatFixtures.date)
            }
            if let text = try node.optional("text")?.string() {
                expectSameText(try render(), text, label)
                rendered += 1
            } else {
                expectEngineError(containing: ["chat template (\(name)) line "]) { _ = try render() }
            }
        }
        #expect(sources.count == 7)
        #expect(rendered >= 15)
    }

    @Test func explicitBosAndEosOverrideTheConfig() throws {
        let template = try #require(try ChatTemplate.load(folder: ChatFixtures.path("models/mistral-v0.1")))
        let messages = [ChatMessage(role: "user", content: "a"), ChatMessage(role: "assistant", content: "b")]
        #expect(try template.render(messages, addGenerationPrompt: false, bosToken: "[B]", eosToken: "[E]")
                == "[B][INST] a [/INST]b[E]")
        // As in jinja2: an undefined token prints as nothing, but adding it to a string fails.
        #expect(try template.render([messages[0]], addGenerationPrompt: false, bosToken: nil, eosToken: nil)
                == "[INST] a [/INST]")
        expectEngineError(containing: ["mistral-v0.1/tokenizer_config.json) line 1: 'eos_token' is undefined"]) {
            _ = try template.render(messages, addGenerationPrompt: false, bosToken: nil, eosToken: nil)
        }
    }

    @Test func strftimeNowReadsTheGivenDate() throws {
        let template = try #require(try ChatTemplate.load(folder: ChatFixtures.path("models/llama3.2")))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .current
        let date = try #require(calendar.date(from: DateComponents(year: 2031, month: 11, day: 23, hour: 9)))
        let text = try template.render([ChatMessage(role: "user", content: "x")], addGenerationPrompt: true, date: date)
        #expect(text.contains("Today Date: 23 Nov 2031\n"))
    }
}
