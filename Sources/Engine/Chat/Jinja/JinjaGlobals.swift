import Foundation

/// The functions every chat template can call: jinja2's `range`, `dict`, `namespace`, and
/// transformers' `raise_exception` and `strftime_now`. jinja2's `cycler`, `joiner` and
/// `lipsum` exist but are errors when called.
enum JinjaGlobals {
    /// The sandbox's limit on `range()` (jinja2's MAX_RANGE).
    static let maximumRange = 100_000

    static func make(date: Date) -> [String: JinjaValue] {
        var globals: [String: JinjaValue] = [:]
        func add(_ name: String, _ body: @escaping (JinjaArguments) throws -> JinjaValue) {
            globals[name] = .function(JinjaFunction(name: name, call: body))
        }
        add("range", range)
        add("dict") { arguments in
            var dict = JinjaDict()
            guard arguments.positional.count <= 1 else { throw JinjaError("dict expected at most 1 argument") }
            if let first = arguments.positional.first {
                guard case .dict(let initial) = first else { throw JinjaError("dict() takes a mapping") }
                dict = initial
            }
            for (name, value) in arguments.keywords { dict[name] = value }
            return .dict(dict)
        }
        add("namespace") { arguments in
            var attributes = JinjaDict()
            guard arguments.positional.count <= 1 else { throw JinjaError("namespace expected at most 1 argument") }
            if let first = arguments.positional.first {
                guard case .dict(let initial) = first else { throw JinjaError("namespace() takes a mapping") }
                attributes = initial
            }
            for (name, value) in arguments.keywords { attributes[name] = value }
            return .namespace(JinjaNamespace(attributes))
        }
        add("raise_exception") { arguments in
            let message = try arguments.bind(["message"], function: "raise_exception")[0] ?? .none
            // The template's own message, as transformers' TemplateError carries it.
            throw JinjaError(message.text)
        }
        add("strftime_now") { arguments in
            guard let format = try arguments.bind(["format"], function: "strftime_now")[0]?.stringValue else {
                throw JinjaError("strftime_now() needs a format string")
            }
            return .string(try Strftime.format(format, date: date))
        }
        for name in ["cycler", "joiner", "lipsum"] {
            add(name) { _ in throw JinjaError("function '\(name)' is not supported") }
        }
        return globals
    }

    private static func range(_ arguments: JinjaArguments) throws -> JinjaValue {
        guard arguments.keywords.isEmpty else { throw JinjaError("range() takes no keyword arguments") }
        let numbers = try arguments.positional.map { value -> Int in
            guard let number = value.integer else {
                throw JinjaError("'\(value.typeName)' object cannot be interpreted as an integer")
            }
            return number
        }
        let (start, stop, step): (Int, Int, Int)
        switch numbers.count {
        case 1: (start, stop, step) = (0, numbers[0], 1)
        case 2: (start, stop, step) = (numbers[0], numbers[1], 1)
        case 3: (start, stop, step) = (numbers[0], numbers[1], numbers[2])
        default: throw JinjaError("range expected 1 to 3 arguments, got \(numbers.count)")
        }
        guard step != 0 else { throw JinjaError("range() arg 3 must not be zero") }
        let span = (Double(stop) - Double(start)) / Double(step)
        guard span <= Double(maximumRange) else {
            throw JinjaError("range too big, the sandbox allows at most \(maximumRange) items")
        }
        return .list(stride(from: start, to: stop, by: step).map { .int($0) })
    }
}
