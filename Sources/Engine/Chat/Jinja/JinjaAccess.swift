/// `a.b`, `a[b]` and `a[i:j:k]` as jinja2's sandboxed environment does them: attribute
/// access tries the Python attribute (a method) first and then the item; item access tries
/// the item first and then the attribute; whatever is missing is Undefined (not an error
/// until it is used), and any access on Undefined is jinja2's UndefinedError.
enum JinjaAccess {
    static func attribute(_ object: JinjaValue, _ name: String) throws -> JinjaValue {
        switch object {
        case .undefined(let why):
            throw JinjaError(why)
        case .dict(let dict):
            if let method = JinjaMethods.method(object, name) { return method }
            if let value = dict[name] { return value }
        case .namespace(let namespace):
            if let value = namespace.attributes[name] { return value }
        case .string, .markup, .list, .tuple:
            if let method = JinjaMethods.method(object, name) { return method }
        default:
            break
        }
        return missingAttribute(object, name)
    }

    static func item(_ object: JinjaValue, _ key: JinjaValue) throws -> JinjaValue {
        switch object {
        case .undefined(let why):
            throw JinjaError(why)
        case .dict(let dict):
            // An unhashable key is a TypeError that jinja2 turns into Undefined.
            if let hashable = try? key.hashable(), let value = dict[hashable] { return value }
        case .list(let items), .tuple(let items):
            if let index = key.integer {
                let at = index < 0 ? index + items.count : index
                if items.indices.contains(at) { return items[at] }
            }
        case .string(let text), .markup(let text):
            if let index = key.integer {
                let scalars = PythonText.scalars(text)
                let at = index < 0 ? index + scalars.count : index
                if scalars.indices.contains(at) {
                    let character = String(scalars[at])
                    return isMarkup(object) ? .markup(character) : .string(character)
                }
            }
        default:
            break
        }
        // jinja2 falls back to the attribute for a string key.
        if case .string(let name) = key { return try attribute(object, name) }
        return .undefined("\(typeDescription(object)) has no element \(key.repr)")
    }

    static func slice(_ object: JinjaValue, start: JinjaValue?, stop: JinjaValue?, step: JinjaValue?) throws -> JinjaValue {
        func bound(_ value: JinjaValue?) throws -> Int? {
            guard let value, !value.isUndefined else {
                if let value { _ = try value.defined() }
                return nil
            }
            if case .none = value { return nil }
            guard let integer = value.integer else {
                throw JinjaError("slice indices must be integers or None, not \(value.typeName)")
            }
            return integer
        }
        let step = try bound(step) ?? 1
        guard step != 0 else { throw JinjaError("slice step cannot be zero") }
        func indices(count: Int) throws -> [Int] {
            let (lower, upper) = step > 0 ? (0, count) : (-1, count - 1)
            func adjust(_ value: Int?, _ fallback: Int) -> Int {
                guard var value else { return fallback }
                if value < 0 { value += count }
                return min(max(value, lower), upper)
            }
            let first = adjust(try bound(start), step > 0 ? lower : upper)
            let end = adjust(try bound(stop), step > 0 ? upper : lower)
            return Array(stride(from: first, to: end, by: step))
        }
        switch try object.defined() {
        case .list(let items): return .list(try indices(count: items.count).map { items[$0] })
        case .tuple(let items): return .tuple(try indices(count: items.count).map { items[$0] })
        case .string(let text):
            let scalars = PythonText.scalars(text)
            return .string(PythonText.string(try indices(count: scalars.count).map { scalars[$0] }))
        case .markup(let text):
            let scalars = PythonText.scalars(text)
            return .markup(PythonText.string(try indices(count: scalars.count).map { scalars[$0] }))
        default:
            return .undefined("\(typeDescription(object)) cannot be sliced")
        }
    }

    private static func isMarkup(_ value: JinjaValue) -> Bool {
        if case .markup = value { return true }
        return false
    }

    /// jinja2's `object_type_repr`: "dict object", "None".
    static func typeDescription(_ value: JinjaValue) -> String {
        if case .none = value { return "None" }
        return "\(value.typeName) object"
    }

    static func missingAttribute(_ object: JinjaValue, _ name: String) -> JinjaValue {
        .undefined("\(PythonText.repr(typeDescription(object))) has no attribute \(PythonText.repr(name))")
    }
}
