/// The `post_processor` of a `tokenizer.json`: adds special tokens (BOS, EOS, CLS/SEP) around
/// the ids of one sequence when `add_special_tokens` is on. Only single sequences are encoded
/// here, so the `pair` templates are not used.
indirect enum PostProcessor: Sendable {
    case sequence([PostProcessor])
    /// `single` template: each element is either a run of special token ids or the sequence.
    case template([TemplateElement])
    case around(prefix: [Int], suffix: [Int])
    /// ByteLevel post-processing only trims offsets; ids are unchanged.
    case none

    enum TemplateElement: Sendable {
        case specialIds([Int])
        case sequence
    }

    init(json: JSONNode) throws {
        let type = try json.required("type").string()
        switch type {
        case "Sequence":
            self = .sequence(try json.required("processors").array().map(PostProcessor.init(json:)))
        case "ByteLevel":
            self = .none
        case "TemplateProcessing":
            self = .template(try Self.singleTemplate(json))
        case "RobertaProcessing", "BertProcessing":
            self = .around(prefix: [try Self.tokenId(json.required("cls"))],
                           suffix: [try Self.tokenId(json.required("sep"))])
        default:
            throw json.error("unsupported post-processor type '\(type)'")
        }
    }

    func apply(_ ids: [Int]) -> [Int] {
        switch self {
        case .sequence(let steps):
            return steps.reduce(ids) { $1.apply($0) }
        case .none:
            return ids
        case .around(let prefix, let suffix):
            return prefix + ids + suffix
        case .template(let elements):
            var result: [Int] = []
            for element in elements {
                switch element {
                case .specialIds(let special): result.append(contentsOf: special)
                case .sequence: result.append(contentsOf: ids)
                }
            }
            return result
        }
    }

    /// Special token ids the template puts before the sequence (for display and BOS guesses).
    var leadingSpecialIds: [Int] {
        switch self {
        case .sequence(let steps): return steps.flatMap(\.leadingSpecialIds)
        case .none: return []
        case .around(let prefix, _): return prefix
        case .template(let elements):
            var ids: [Int] = []
            for element in elements {
                guard case .specialIds(let special) = element else { break }
                ids += special
            }
            return ids
        }
    }

    /// `["</s>", 2]`: a token and its id.
    private static func tokenId(_ node: JSONNode) throws -> Int {
        let pair = try node.array()
        guard pair.count == 2 else { throw node.error("expected [token, id]") }
        return try pair[1].int()
    }

    private static func singleTemplate(_ json: JSONNode) throws -> [TemplateElement] {
        var specialIds: [(name: String, ids: [Int])] = []
        if let special = json.optional("special_tokens") {
            for (name, entry) in try special.members() {
                specialIds.append((name, try entry.required("ids").array().map { try $0.int() }))
            }
        }
        var elements: [TemplateElement] = []
        for piece in try json.required("single").array() {
            if let special = piece.optional("SpecialToken") {
                let nameNode = try special.required("id")
                let name = try nameNode.string()
                guard let ids = specialIds.first(where: { $0.name.unicodeScalars.elementsEqual(name.unicodeScalars) })?.ids else {
                    throw nameNode.error("special token '\(name)' is not in special_tokens")
                }
                elements.append(.specialIds(ids))
            } else if let sequence = piece.optional("Sequence") {
                let idNode = try sequence.required("id")
                guard try idNode.string() == "A" else {
                    throw idNode.error("the single template can only use sequence A")
                }
                elements.append(.sequence)
            } else {
                throw piece.error("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}")
            }
        }
        return elements
    }
}
