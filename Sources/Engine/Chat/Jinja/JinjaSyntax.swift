/// The parsed form of a chat template: statements (`JinjaNode`) holding expressions
/// (`JinjaExpression`). Every node keeps the template line it came from, for errors.

/// A constant written in the template.
enum JinjaLiteral: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
}

/// An argument of a call, filter or test: `x` or `name=x`.
struct JinjaArgument: Sendable {
    let name: String?
    let value: JinjaExpression
}

struct JinjaExpression: Sendable {
    indirect enum Kind: Sendable {
        case literal(JinjaLiteral)
        case name(String)
        case list([JinjaExpression])
        case tuple([JinjaExpression])
        case dict([(key: JinjaExpression, value: JinjaExpression)])
        /// `a.b`
        case attribute(JinjaExpression, String)
        /// `a[b]`
        case item(JinjaExpression, JinjaExpression)
        /// `a[start:stop:step]`
        case slice(JinjaExpression, start: JinjaExpression?, stop: JinjaExpression?, step: JinjaExpression?)
        case call(JinjaExpression, [JinjaArgument])
        /// `value | name(arguments)`
        case filter(JinjaExpression, name: String, [JinjaArgument])
        /// `value is [not] name(arguments)`
        case test(JinjaExpression, name: String, [JinjaArgument], negated: Bool)
        case not(JinjaExpression)
        case negate(JinjaExpression)
        case plus(JinjaExpression)
        /// Arithmetic: + - * / // % **
        case binary(String, JinjaExpression, JinjaExpression)
        /// `a ~ b ~ c`
        case concat([JinjaExpression])
        case and(JinjaExpression, JinjaExpression)
        case or(JinjaExpression, JinjaExpression)
        /// `a < b <= c`, `x in y`, `x not in y`: operators "==", "!=", "<", "<=", ">", ">=", "in", "not in".
        case compare(JinjaExpression, [(op: String, operand: JinjaExpression)])
        /// `then if condition else otherwise` (no else: undefined when false).
        case conditional(then: JinjaExpression, condition: JinjaExpression, otherwise: JinjaExpression?)
    }

    let kind: Kind
    let line: Int
}

/// What `{% set %}` and `{% for %}` assign to.
enum JinjaTarget: Sendable {
    /// `x` or `a, b`
    case names([String])
    /// `ns.attribute`
    case namespaceAttribute(String, String)
}

struct JinjaMacroParameter: Sendable {
    let name: String
    let defaultValue: JinjaExpression?
}

struct JinjaNode: Sendable {
    indirect enum Kind: Sendable {
        case text(String)
        case output(JinjaExpression)
        case ifChain([(condition: JinjaExpression, body: [JinjaNode])], otherwise: [JinjaNode])
        case forLoop(target: JinjaTarget, iterable: JinjaExpression, filter: JinjaExpression?,
                     body: [JinjaNode], otherwise: [JinjaNode])
        case set(JinjaTarget, JinjaExpression)
        /// `{% set x %}...{% endset %}`: the rendered body.
        case setBlock(String, [JinjaNode])
        case macro(name: String, parameters: [JinjaMacroParameter], body: [JinjaNode])
        case with([(name: String, value: JinjaExpression)], [JinjaNode])
        /// `{% filter a(x) | b %}...{% endfilter %}`: the rendered body through the filters.
        case filterBlock([(name: String, arguments: [JinjaArgument])], [JinjaNode])
        case breakLoop
        case continueLoop
    }

    let kind: Kind
    let line: Int
}
