import Foundation
import Testing

@testable import Engine

/// The Jinja subset, one feature per case, against transformers' own compiled jinja2
/// environment (jinja_cases.json): whitespace control, literals, operators, scoping, loops,
/// filters, tests, methods, globals, and the templates jinja2 refuses.
@Suite struct ChatJinjaSemanticsTests {
    struct Case {
        let index: Int
        let template: String
        let variables: [String: ChatTemplateValue]
        let text: String?
        let error: String?
    }

    static let cases: Result<[Case], any Error> = Result {
        let root = try ChatFixtures.json("jinja_cases.json")
        return try ChatExpectations.elements(root.required("cases")).enumerated().map { index, node in
            Case(index: index, template: try node.required("template").string(),
                 variables: try ChatExpectations.variables(node.required("variables")),
                 text: try node.optional("text")?.string(), error: try node.optional("error")?.string())
        }
    }

    /// Rendered with the variables transformers always passes (messages, add_generation_prompt,
    /// tools, documents), the case's own `messages` taking the place of the empty list.
    private func render(_ item: Case) throws -> String {
        let template = try ChatTemplate(source: item.template, origin: "jinja_cases.json[\(item.index)]")
        var variables = item.variables
        var messages: [ChatMessage] = []
        if case .list(let items)? = variables.removeValue(forKey: "messages") {
            messages = items.map { item in
                guard case .object(let members) = item else { return ChatMessage(role: "", content: "") }
                func text(_ key: String) -> String {
                    if case .string(let value)? = members.first(where: { $0.key == key })?.value { return value }
                    return ""
                }
                return ChatMessage(role: text("role"), content: text("content"))
            }
        }
        return try template.render(messages, addGenerationPrompt: false, variables: variables, date: ChatFixtures.date)
    }

    @Test func rendersEveryCaseAsJinja2() throws {
        let cases = try Self.cases.get()
        #expect(cases.count > 100)
        for item in cases {
            guard let text = item.text else { continue }
            do {
                expectSameText(try render(item), text, "case \(item.index) \(item.template.debugDescription)")
            } catch {
                Issue.record("case \(item.index) \(item.template.debugDescription) failed: \(error)")
            }
        }
    }

    @Test func refusesWhatJinja2Refuses() throws {
        let cases = try Self.cases.get().filter { $0.error != nil }
        #expect(cases.count > 20)
        for item in cases {
            var fragments = ["chat template (jinja_cases.json[\(item.index)]) line "]
            // The template's own message (raise_exception) and jinja2's undefined messages
            // must come through as they are.
            if let error = item.error, error.hasPrefix("TemplateError: ") || error.hasPrefix("UndefinedError: ") {
                fragments.append(String(error.split(separator: ":", maxSplits: 1)[1].dropFirst()))
            }
            expectEngineError(containing: fragments) { _ = try render(item) }
        }
    }
}
