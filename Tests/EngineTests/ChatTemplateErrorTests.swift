import Foundation
import Testing

@testable import Engine

/// Bad or unsupported templates and config files: one EngineError line naming the file, the
/// template line and the problem; never a crash.
@Suite struct ChatTemplateErrorTests {
    private let messages = [ChatMessage(role: "system", content: "S"), ChatMessage(role: "user", content: "Hi")]

    /// A model folder whose tokenizer_config.json holds `template`.
    private func folder(template: String, extra: String = "") throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        let quoted = String(data: try JSONEncoder().encode(template), encoding: .utf8)!
        try folder.write("tokenizer_config.json", #"{"bos_token": "<s>", "eos_token": "</s>", "chat_template": "#
                         + quoted + extra + "}")
        return folder
    }

    @Test func unsupportedFilterNamesFilterFileAndLine() throws {
        let folder = try folder(template: "{% for m in messages %}\n{{ m.role }}\n{{ m.content | wordcount }}\n{% endfor %}")
        let template = try #require(try ChatTemplate.load(folder: folder.path))
        expectEngineError(containing: ["chat template (\(folder.file("tokenizer_config.json"))) line 3: ",
                                       "filter 'wordcount' is not supported"]) {
            _ = try template.render(messages, addGenerationPrompt: true)
        }
    }

    @Test func unsupportedTagIsRefusedWhenLoading() throws {
        let folder = try folder(template: "{{ bos_token }}\n\n{% include 'other.jinja' %}")
        expectEngineError(containing: ["tokenizer_config.json) line 3: ", "tag 'include' is not supported"]) {
            _ = try ChatTemplate.load(folder: folder.path)
        }
    }

    @Test func unterminatedBlockNamesWhereItOpened() throws {
        let folder = try folder(template: "{{ bos_token }}\n{% for m in messages %}\n{% if m.role == 'user' %}{{ m.content }}{% endif %}\n")
        expectEngineError(containing: ["tokenizer_config.json) line 2: ", "'for' block", "never closed", "'endfor'"]) {
            _ = try ChatTemplate.load(folder: folder.path)
        }
    }

    @Test func raiseExceptionGivesTheTemplatesMessage() throws {
        let folder = try folder(template: "{% if messages[0]['role'] == 'system' %}\n{{ raise_exception('System role not supported') }}\n{% endif %}")
        let template = try #require(try ChatTemplate.load(folder: folder.path))
        expectEngineError(containing: ["tokenizer_config.json) line 2: System role not supported"]) {
            _ = try template.render(messages, addGenerationPrompt: true)
        }
        #expect(try template.render([messages[1]], addGenerationPrompt: true) == "")
    }

    @Test(arguments: [
        ("{{ 'a' | wordwrap }}", "filter 'wordwrap' is not supported"),
        ("{{ 'a' | nosuchfilter }}", "filter 'nosuchfilter' is not supported"),
        ("{{ 1 is nosuchtest }}", "test 'nosuchtest' is not supported"),
        ("{{ 'a'.encode() }}", "str method 'encode' is not supported"),
        ("{{ [1].append(2) }}", "list method 'append' is not allowed"),
        ("{{ {'a': 1}.update({}) }}", "dict method 'update' is not allowed"),
        ("{{ '%s' % 1 }}", "'%' string formatting is not supported"),
        ("{{ '{:>4}'.format(1) }}", "str.format: the field '{:>4}' is not supported"),
        ("{{ strftime_now('%Z') }}", "the directive '%Z' is not supported"),
        ("{{ cycler(1, 2) }}", "function 'cycler' is not supported"),
        ("{% for x in [1] %}{{ loop.changed(x) }}{% endfor %}", "loop.changed is not supported"),
        ("{% for x in [[1]] recursive %}{{ loop(x) }}{% endfor %}", "recursive for loops are not supported"),
        ("{% filter wordcount %}x{% endfilter %}", "filter 'wordcount' is not supported"),
        ("{% call m() %}x{% endcall %}", "tag 'call' is not supported"),
        ("{% extends 'base' %}", "tag 'extends' is not supported"),
        ("{% frobnicate %}", "unknown tag 'frobnicate'"),
        ("{% endif %}", "unexpected 'endif'"),
        ("{% break %}", "'break' outside a for loop"),
        ("{{ f(*args) }}", "'*' and '**' arguments are not supported"),
        ("{{ x[1, 2] }}", "tuple subscripts are not supported"),
        ("{% set x | upper %}a{% endset %}", "filters on a block 'set' are not supported"),
        ("{{ '\\N{BULLET}' }}", "'\\N{...}' escapes are not supported"),
        ("{{ 'never closed }}", "string opened here is never closed"),
        ("{# never closed", "comment opened here is never closed"),
        ("{{ 1 + 2", "'{{' opened here is never closed"),
        ("{{ (1 }}", "unexpected '}', expected ')'"),
        ("{{ 1 + }}", "expected an expression, found '}}'"),
        ("{{ undefined_thing.attribute }}", "'undefined_thing' is undefined"),
        ("{{ messages[5].content }}", "list object has no element 5"),
        ("{{ 1 // 0 }}", "integer division or modulo by zero"),
        ("{{ range(10000000) }}", "range too big"),
        ("{{ 9223372036854775807 + 1 }}", "integer overflow"),
        ("{{ x | tojson }}", "tojson: object of type Undefined is not JSON serializable"),
    ])
    func unsupportedOrBrokenConstruct(_ source: String, _ problem: String) throws {
        expectEngineError(containing: ["chat template (test.jinja) line 1: ", problem]) {
            let template = try ChatTemplate(source: source, origin: "test.jinja")
            _ = try template.render(messages, addGenerationPrompt: true)
        }
    }

    @Test func hostileTemplatesAreErrorsNotCrashes() throws {
        let deep = [
            (String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000), "nests deeper than"),
            (String(repeating: "not ", count: 5000) + "x", "nests deeper than"),
            (String(repeating: "- ", count: 5000) + "1", "nests deeper than"),
            (String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000), "nests deeper than"),
        ]
        for (expression, problem) in deep {
            expectEngineError(containing: ["chat template (deep.jinja) line 1: ", problem]) {
                _ = try ChatTemplate(source: "{{ \(expression) }}", origin: "deep.jinja")
            }
        }
        let blocks = String(repeating: "{% if true %}", count: 3000) + String(repeating: "{% endif %}", count: 3000)
        expectEngineError(containing: ["nests deeper than"]) { _ = try ChatTemplate(source: blocks, origin: "x") }
        let recursion = try ChatTemplate(source: "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", origin: "x")
        expectEngineError(containing: ["line 1: ", "macro calls nest deeper than"]) {
            _ = try recursion.render(messages, addGenerationPrompt: true)
        }
        let huge = try ChatTemplate(source: "{{ 'ab' * 100000000 }}", origin: "x")
        expectEngineError(containing: ["line 1: ", "too large"]) { _ = try huge.render(messages, addGenerationPrompt: true) }
    }

    @Test func errorsGiveTheLineInsideAMultiLineTemplate() throws {
        let source = "{%- for message in messages %}\n    {%- if message.role == 'user' %}\n        {{- message.content }}\n"
            + "    {%- else %}\n        {{- message.content | frobnicate }}\n    {%- endif %}\n{%- endfor %}"
        expectEngineError(containing: ["chat template (multi.jinja) line 5: filter 'frobnicate' is not supported"]) {
            _ = try ChatTemplate(source: source, origin: "multi.jinja").render(messages, addGenerationPrompt: false)
        }
    }

    @Test func multiLineMessageFromTheTemplateStaysOneLine() throws {
        expectEngineError(containing: ["line 1: first\\nsecond"]) {
            _ = try ChatTemplate(source: "{{ raise_exception('first\\nsecond') }}", origin: "x")
                .render(messages, addGenerationPrompt: true)
        }
    }

    // MARK: files

    @Test func malformedConfigNamesTheFile() throws {
        let folder = try TemporaryFolder()
        try folder.write("tokenizer_config.json", #"{"chat_template": "{{ x }}",,}"#)
        expectEngineError(containing: [folder.file("tokenizer_config.json"), "not valid JSON"]) {
            _ = try ChatTemplate.load(folder: folder.path)
        }
    }

    @Test func chatTemplateOfTheWrongType() throws {
        let folder = try folder(template: "", extra: "")
        try folder.write("tokenizer_config.json", #"{"chat_template": 42}"#)
        expectEngineError(containing: [folder.file("tokenizer_config.json"), "chat_template",
                                       "expected a string or a list"]) {
            _ = try ChatTemplate.load(folder: folder.path)
        }
    }

    @Test func templateListWithoutDefault() throws {
        let folder = try TemporaryFolder()
        try folder.write("tokenizer_config.json",
                         #"{"chat_template": [{"name": "tool_use", "template": "a"}, {"name": "rag", "template": "b"}]}"#)
        expectEngineError(containing: [folder.file("tokenizer_config.json"), "tool_use, rag", "\"default\""]) {
            _ = try ChatTemplate.load(folder: folder.path)
        }
        try folder.write("tokenizer_config.json", #"{"chat_template": [{"template": "a"}]}"#)
        expectEngineError(containing: [folder.file("tokenizer_config.json"), "chat_template[0]", "missing \"name\""]) {
            _ = try ChatTemplate.load(folder: folder.path)
        }
    }

    @Test func specialTokenWithoutContent() throws {
        let folder = try TemporaryFolder()
        try folder.write("tokenizer_config.json", #"{"bos_token": {"__type": "AddedToken"}, "chat_template": "x"}"#)
        expectEngineError(containing: [folder.file("tokenizer_config.json"), "bos_token", "missing \"content\""]) {
            _ = try ChatTemplate.load(folder: folder.path)
        }
    }

    @Test func templateFileThatIsNotUTF8() throws {
        let folder = try TemporaryFolder()
        try folder.write("chat_template.jinja", Data([0x7B, 0x7B, 0xFF, 0xFE, 0x7D, 0x7D]))
        expectEngineError(containing: [folder.file("chat_template.jinja"), "not UTF-8"]) {
            _ = try ChatTemplate.load(folder: folder.path)
        }
    }

    @Test func folderWithoutTemplate() throws {
        let folder = try TemporaryFolder()
        #expect(try ChatTemplate.load(folder: folder.path) == nil)
        try folder.write("tokenizer_config.json", #"{"bos_token": "<s>", "chat_template": null}"#)
        #expect(try ChatTemplate.load(folder: folder.path) == nil)
        let tokenizer = try loadTokenizer(file: ChatFixtures.path("tokenizers/smollm2/tokenizer.json"))
        expectEngineError(containing: [folder.path, "no chat template"]) {
            _ = try chatPromptIds(model: folder.path, tokenizer: tokenizer, messages: messages)
        }
        expectEngineError(containing: ["/no/such/folder", "no such folder"]) {
            _ = try ChatTemplate.load(folder: "/no/such/folder")
        }
    }

    @Test func ggufWithoutTemplate() throws {
        let gguf = try GGUFFile(path: Fixtures.root.appendingPathComponent("gguf/tokenizer-llama3.gguf").path)
        #expect(try ChatTemplate.load(gguf: gguf) == nil)
    }
}
