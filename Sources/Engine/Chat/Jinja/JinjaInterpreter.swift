/// Runs a parsed template and collects its output.
///
/// Scoping follows jinja2: `if` opens no scope (a `set` inside it changes the enclosing
/// one); every iteration of a `for` loop, a macro call and a `with` block get their own scope,
/// so a `set` inside them is gone afterwards. Only a `namespace()` object carries changes out
/// of a loop. Errors get the line of the innermost expression or statement that failed.
final class JinjaInterpreter {
    private enum Flow { case normal, breakLoop, continueLoop }

    /// scopes[0]: the globals; scopes[1]: the render variables and top-level `set`s.
    private var scopes: [[String: JinjaValue]]
    private var output = ""
    /// Macro calls in progress: a macro that calls itself forever is an error, not a crash.
    private var callDepth = 0
    static let maximumCallDepth = 50

    init(globals: [String: JinjaValue], variables: [String: JinjaValue]) {
        scopes = [globals, variables]
    }

    func render(_ nodes: [JinjaNode]) throws -> String {
        output = ""
        _ = try execute(nodes)
        return output
    }

    // MARK: statements

    private func execute(_ nodes: [JinjaNode]) throws -> Flow {
        for node in nodes {
            let flow: Flow
            do {
                flow = try execute(node)
            } catch let error as JinjaError {
                throw error.at(node.line)
            }
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func execute(_ node: JinjaNode) throws -> Flow {
        switch node.kind {
        case .text(let text):
            output += text
        case .output(let expression):
            output += try evaluate(expression).text
        case .ifChain(let branches, let otherwise):
            for branch in branches where try evaluate(branch.condition).isTruthy {
                return try execute(branch.body)
            }
            return try execute(otherwise)
        case .forLoop(let target, let iterable, let filter, let body, let otherwise):
            return try runLoop(target, iterable, filter, body, otherwise)
        case .set(let target, let expression):
            try assign(target, try evaluate(expression))
        case .setBlock(let name, let body):
            let text = try capture { _ = try execute(body) }
            scopes[scopes.count - 1][name] = .string(text)
        case .macro(let name, let parameters, let body):
            scopes[scopes.count - 1][name] = .function(macro(name, parameters, body))
        case .with(let assignments, let body):
            var scope: [String: JinjaValue] = [:]
            for (name, expression) in assignments { scope[name] = try evaluate(expression) }
            scopes.append(scope)
            defer { scopes.removeLast() }
            return try execute(body)
        case .filterBlock(let filters, let body):
            var value = JinjaValue.string(try capture { _ = try execute(body) })
            for (name, list) in filters { value = try JinjaFilters.apply(name, value, arguments(list)) }
            output += value.text
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    private func capture(_ body: () throws -> Void) throws -> String {
        let saved = output
        output = ""
        defer { output = saved }
        try body()
        return output
    }

    private func lookup(_ name: String) -> JinjaValue {
        for scope in scopes.reversed() {
            if let value = scope[name] { return value }
        }
        return .undefined("'\(name)' is undefined")
    }

    private func assign(_ target: JinjaTarget, _ value: JinjaValue) throws {
        switch target {
        case .names(let names):
            if names.count == 1 {
                scopes[scopes.count - 1][names[0]] = value
                return
            }
            let parts = try unpack(value, count: names.count)
            for (name, part) in zip(names, parts) { scopes[scopes.count - 1][name] = part }
        case .namespaceAttribute(let name, let attribute):
            guard case .namespace(let namespace) = lookup(name) else {
                throw JinjaError("cannot assign attribute on non-namespace object '\(name)'")
            }
            namespace.attributes[attribute] = value
        }
    }

    private func unpack(_ value: JinjaValue, count: Int) throws -> [JinjaValue] {
        let parts = try value.defined().iterate()
        guard parts.count == count else {
            throw JinjaError(parts.count > count ? "too many values to unpack (expected \(count))"
                                                  : "not enough values to unpack (expected \(count), got \(parts.count))")
        }
        return parts
    }

    private func bind(_ target: JinjaTarget, _ item: JinjaValue, into scope: inout [String: JinjaValue]) throws {
        guard case .names(let names) = target else { throw JinjaError("a for loop cannot assign to a namespace") }
        if names.count == 1 {
            scope[names[0]] = item
        } else {
            for (name, part) in zip(names, try unpack(item, count: names.count)) { scope[name] = part }
        }
    }

    private func runLoop(_ target: JinjaTarget, _ iterable: JinjaExpression, _ filter: JinjaExpression?,
                         _ body: [JinjaNode], _ otherwise: [JinjaNode]) throws -> Flow {
        var items = try evaluate(iterable).iterate()
        if let filter {
            // The loop's `if` sees the loop variable (not `loop`); `loop` counts what passes.
            items = try items.filter { item in
                var scope: [String: JinjaValue] = [:]
                try bind(target, item, into: &scope)
                scopes.append(scope)
                defer { scopes.removeLast() }
                return try evaluate(filter).isTruthy
            }
        }
        if items.isEmpty { return try execute(otherwise) }
        for (index, item) in items.enumerated() {
            var scope: [String: JinjaValue] = [:]
            try bind(target, item, into: &scope)
            scope["loop"] = loopValue(index: index, items: items)
            scopes.append(scope)
            let flow = try execute(body)
            scopes.removeLast()
            if flow == .breakLoop { break }
        }
        return .normal
    }

    /// jinja2's `loop` object.
    private func loopValue(index: Int, items: [JinjaValue]) -> JinjaValue {
        let count = items.count
        var loop = JinjaDict()
        loop["index"] = .int(index + 1)
        loop["index0"] = .int(index)
        loop["revindex"] = .int(count - index)
        loop["revindex0"] = .int(count - index - 1)
        loop["first"] = .bool(index == 0)
        loop["last"] = .bool(index == count - 1)
        loop["length"] = .int(count)
        loop["depth"] = .int(1)
        loop["depth0"] = .int(0)
        loop["previtem"] = index > 0 ? items[index - 1] : .undefined("there is no previous item")
        loop["nextitem"] = index + 1 < count ? items[index + 1] : .undefined("there is no next item")
        loop["cycle"] = .function(JinjaFunction(name: "loop.cycle") { arguments in
            guard !arguments.positional.isEmpty else { throw JinjaError("no items for cycling given") }
            return arguments.positional[index % arguments.positional.count]
        })
        loop["changed"] = .function(JinjaFunction(name: "loop.changed") { _ in
            throw JinjaError("loop.changed is not supported")
        })
        return .dict(loop)
    }

    /// A macro: called with its parameters in a fresh scope that sees the template's
    /// top-level variables as they are at call time; returns its rendered body.
    private func macro(_ name: String, _ parameters: [JinjaMacroParameter], _ body: [JinjaNode]) -> JinjaFunction {
        JinjaFunction(name: name) { [unowned self] arguments in
            let values = try arguments.bind(parameters.map(\.name), function: name)
            guard callDepth < Self.maximumCallDepth else {
                throw JinjaError("macro calls nest deeper than \(Self.maximumCallDepth) (endless recursion?)")
            }
            callDepth += 1
            defer { callDepth -= 1 }
            let saved = scopes
            scopes = Array(scopes.prefix(2)) + [[:]]
            defer { scopes = saved }
            for (parameter, value) in zip(parameters, values) {
                if let value {
                    scopes[2][parameter.name] = value
                } else if let fallback = parameter.defaultValue {
                    scopes[2][parameter.name] = try evaluate(fallback)
                } else {
                    scopes[2][parameter.name] = .undefined("parameter '\(parameter.name)' was not provided")
                }
            }
            return .string(try capture { _ = try execute(body) })
        }
    }

    // MARK: expressions

    private func evaluate(_ expression: JinjaExpression) throws -> JinjaValue {
        do {
            return try evaluateKind(expression)
        } catch let error as JinjaError {
            throw error.at(expression.line)
        }
    }

    private func arguments(_ list: [JinjaArgument]) throws -> JinjaArguments {
        var result = JinjaArguments()
        for argument in list {
            let value = try evaluate(argument.value)
            if let name = argument.name {
                guard !result.keywords.contains(where: { $0.name == name }) else {
                    throw JinjaError("keyword argument '\(name)' repeated")
                }
                result.keywords.append((name, value))
            } else {
                result.positional.append(value)
            }
        }
        return result
    }

    private func evaluateKind(_ expression: JinjaExpression) throws -> JinjaValue {
        switch expression.kind {
        case .literal(let literal):
            return JinjaValue(literal)
        case .name(let name):
            return lookup(name)
        case .list(let items):
            return .list(try items.map(evaluate))
        case .tuple(let items):
            return .tuple(try items.map(evaluate))
        case .dict(let entries):
            var dict = JinjaDict()
            for entry in entries {
                dict[try evaluate(entry.key).hashable()] = try evaluate(entry.value)
            }
            return .dict(dict)
        case .attribute(let object, let name):
            return try JinjaAccess.attribute(evaluate(object), name)
        case .item(let object, let key):
            return try JinjaAccess.item(evaluate(object), evaluate(key))
        case .slice(let object, let start, let stop, let step):
            return try JinjaAccess.slice(evaluate(object), start: start.map(evaluate), stop: stop.map(evaluate),
                                         step: step.map(evaluate))
        case .call(let callee, let list):
            let function = try evaluate(callee)
            switch function {
            case .function(let body): return try body.call(arguments(list))
            case .undefined(let why): throw JinjaError(why)
            default: throw JinjaError("'\(function.typeName)' object is not callable")
            }
        case .filter(let value, let name, let list):
            return try JinjaFilters.apply(name, evaluate(value), arguments(list))
        case .test(let value, let name, let list, let negated):
            let passed = try JinjaIsTests.apply(name, evaluate(value), arguments(list))
            return .bool(passed != negated)
        case .not(let value):
            return .bool(!(try evaluate(value).isTruthy))
        case .negate(let value):
            return try JinjaOperators.negate(evaluate(value))
        case .plus(let value):
            return try JinjaOperators.plus(evaluate(value))
        case .binary(let op, let left, let right):
            return try JinjaOperators.binary(op, evaluate(left), evaluate(right))
        case .concat(let parts):
            return .string(try parts.map { try evaluate($0).text }.joined())
        case .and(let left, let right):
            let first = try evaluate(left)
            return first.isTruthy ? try evaluate(right) : first
        case .or(let left, let right):
            let first = try evaluate(left)
            return first.isTruthy ? first : try evaluate(right)
        case .compare(let first, let operations):
            var left = try evaluate(first)
            for (op, operandExpression) in operations {
                let right = try evaluate(operandExpression)
                let holds: Bool
                switch op {
                case "==": holds = left.equals(right)
                case "!=": holds = !left.equals(right)
                case "in": holds = try JinjaOperators.contains(right, left)
                case "not in": holds = !(try JinjaOperators.contains(right, left))
                default: holds = try left.compare(right, op)
                }
                if !holds { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let then, let condition, let otherwise):
            if try evaluate(condition).isTruthy { return try evaluate(then) }
            if let otherwise { return try evaluate(otherwise) }
            return .undefined("the inline if-expression on line \(expression.line) evaluated to false and no else section was defined.")
        }
    }
}
