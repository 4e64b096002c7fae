import Foundation
import Testing

@testable import Engine

/// The chat template fixtures written by training/make_chat_fixtures.py.
enum ChatFixtures {
    static let root = Fixtures.root.appendingPathComponent("chat")

    static func path(_ relative: String) -> String {
        root.appendingPathComponent(relative).standardizedFileURL.path
    }

    /// The date the fixtures pinned `strftime_now` to (2025-03-07 12:00), in local time as
    /// Python's `datetime.now()` is.
    static let date: Date = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .current
        return calendar.date(from: DateComponents(year: 2025, month: 3, day: 7, hour: 12))!
    }()

    static func json(_ name: String) throws -> JSONNode {
        JSONNode(try ExactJSONParser.parse(Array(try Data(contentsOf: root.appendingPathComponent(name)))))
    }
}

/// One expectation of cases.json.
struct ChatCase {
    let template: String
    let conversation: String
    let addGenerationPrompt: Bool
    let variables: [String: ChatTemplateValue]
    let text: String?
    let error: String?
    let ids: [Int]?

    var label: String {
        "\(template) \(conversation)\(addGenerationPrompt ? " +generation prompt" : "")"
    }
}

struct ChatTemplateInfo {
    let folder: String
    let tokenizer: String
    let form: String
    let bosToken: String?
    let eosToken: String?
}

/// cases.json: the templates, the conversations and what transformers rendered.
struct ChatExpectations {
    let templates: [String: ChatTemplateInfo]
    let conversations: [String: [ChatMessage]]
    let cases: [ChatCase]
    let precedence: String
    let gguf: String

    static func load() throws -> ChatExpectations {
        let root = try ChatFixtures.json("cases.json")
        var templates: [String: ChatTemplateInfo] = [:]
        for (name, node) in try members(root.required("templates")) {
            templates[name] = ChatTemplateInfo(
                folder: try node.required("folder").string(), tokenizer: try node.required("tokenizer").string(),
                form: try node.required("form").string(), bosToken: try node.optional("bos_token")?.string(),
                eosToken: try node.optional("eos_token")?.string())
        }
        var conversations: [String: [ChatMessage]] = [:]
        for (name, node) in try members(root.required("conversations")) {
            conversations[name] = try elements(node).map {
                ChatMessage(role: try $0.required("role").string(), content: try $0.required("content").string())
            }
        }
        let cases = try elements(root.required("cases")).map { node in
            ChatCase(template: try node.required("template").string(),
                     conversation: try node.required("conversation").string(),
                     addGenerationPrompt: try node.required("add_generation_prompt").bool(),
                     variables: try variables(node.required("variables")),
                     text: try node.optional("text")?.string(), error: try node.optional("error")?.string(),
                     ids: try node.optional("ids").map { try elements($0).map { try $0.int() } })
        }
        return ChatExpectations(templates: templates, conversations: conversations, cases: cases,
                                precedence: try root.required("precedence").string(),
                                gguf: try root.required("gguf").string())
    }

    static func members(_ node: JSONNode) throws -> [(String, JSONNode)] {
        guard case .object(let members) = node.value else { throw node.error("expected an object") }
        return members.map { ($0.key, JSONNode($0.value, path: "\(node.path).\($0.key)")) }
    }

    static func elements(_ node: JSONNode) throws -> [JSONNode] {
        guard case .array(let items) = node.value else { throw node.error("expected an array") }
        return items.enumerated().map { JSONNode($1, path: "\(node.path)[\($0)]") }
    }

    /// A JSON object of template variables, member order kept.
    static func variables(_ node: JSONNode) throws -> [String: ChatTemplateValue] {
        var result: [String: ChatTemplateValue] = [:]
        for (name, value) in try members(node) { result[name] = value.value.chatValue }
        return result
    }
}

extension ExactJSONValue {
    var chatValue: ChatTemplateValue {
        switch self {
        case .null: return .none
        case .bool(let flag): return .bool(flag)
        case .integer(let number): return .int(number)
        case .double(let number): return .double(number)
        case .string(let text): return .string(text)
        case .array(let items): return .list(items.map(\.chatValue))
        case .object(let members): return .object(members.map { ChatTemplateMember($0.key, $0.value.chatValue) })
        }
    }
}
