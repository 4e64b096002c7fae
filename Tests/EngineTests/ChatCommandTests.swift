import Foundation
import Testing

@testable import Engine

/// `generate --chat MESSAGE [--system TEXT]`: the prompt is the model's chat template
/// rendered with a user (and system) message and the generation prompt, as transformers'
/// apply_chat_template gives it (the template engine itself is checked in ChatTemplateTests).
@Suite struct ChatCommandTests {
    /// The llama3-tokenizer model fixture with Llama 3.2's real chat template beside it.
    func instructModel() throws -> TemporaryFolder {
        let folder = try TemporaryFolder.copyOf(model: "llama3-tokenizer")
        let template = try String(
            contentsOf: Fixtures.root.appendingPathComponent("chat/templates/llama3.2.jinja"), encoding: .utf8)
        try folder.write("chat_template.jinja", template)
        try folder.write("tokenizer_config.json", #"{"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"}"#)
        return folder
    }

    @Test func chatPromptIsTheRenderedTemplate() throws {
        let folder = try instructModel()
        let result = try Depthscope.run([
            "generate", "--model", folder.path, "--chat", "Hi there", "--system", "Be brief.", "-n", "3",
            "--temperature", "0", "--echo",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let template = try #require(try ChatTemplate.load(folder: folder.path))
        let rendered = try template.render(
            [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi there")],
            addGenerationPrompt: true)
        #expect(rendered.contains("Be brief.") && rendered.hasSuffix("<|start_header_id|>assistant<|end_header_id|>\n\n"))
        // --echo shows the prompt as the model reads it: the rendered template, decoded.
        let tokenizer = try loadTokenizer(folder: folder.path)
        let shown = try tokenizer.decode(try tokenizer.encode(rendered, addSpecialTokens: false), skipSpecialTokens: false)
        #expect(result.text.hasPrefix(shown))
        #expect(result.text.count > shown.count)
    }

    @Test func chatErrorsAreOneLine() throws {
        let plain = try Depthscope.run(["generate", "--model", Fixtures.model("llama3-tokenizer"), "--chat", "Hi"])
        #expect(plain.status == 1 && plain.stderrLines.count == 1)
        #expect(plain.stderr.contains("--chat:") && plain.stderr.contains("no chat template"))
        let both = try Depthscope.run(["generate", "--model", Fixtures.model("llama3-tokenizer"), "--chat", "Hi", "--prompt", "x"])
        #expect(both.status != 0 && both.stderr.contains("--prompt or --chat"))
    }
}
