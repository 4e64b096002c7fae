/// Python's `str` operations, on Unicode scalars (code points) as Python counts them.
///
/// Swift `String` compares and counts by grapheme cluster under canonical equivalence
/// ("é" == "e\u{301}", "👨‍👩‍👧" has count 1); a template's `len`, slices, `in` and `==` must
/// work on code points exactly as Python does, so every helper here goes through scalars.
enum PythonText {
    typealias Scalars = [Unicode.Scalar]

    static func scalars(_ text: String) -> Scalars { Array(text.unicodeScalars) }

    static func string(_ scalars: some Sequence<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// `str.isspace()` for one character (also what `\s` matches in Python's `re`).
    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Code-point equality (Python `==` on strings).
    static func equal(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.elementsEqual(b.unicodeScalars)
    }

    static func count(_ text: String) -> Int { text.unicodeScalars.count }

    /// Where `needle` first occurs in `haystack` at or after `start`, in scalars.
    static func find(_ needle: Scalars, in haystack: Scalars, from start: Int = 0) -> Int? {
        if needle.isEmpty { return start <= haystack.count ? start : nil }
        guard haystack.count >= needle.count else { return nil }
        var i = start
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    static func contains(_ haystack: String, _ needle: String) -> Bool {
        find(scalars(needle), in: scalars(haystack)) != nil
    }

    static func hasPrefix(_ text: String, _ prefix: String) -> Bool {
        text.unicodeScalars.starts(with: prefix.unicodeScalars)
    }

    static func hasSuffix(_ text: String, _ suffix: String) -> Bool {
        let t = scalars(text), s = scalars(suffix)
        return t.count >= s.count && t[(t.count - s.count)...].elementsEqual(s)
    }

    /// `str.strip(chars)`, `lstrip`, `rstrip`: whitespace when `chars` is nil.
    static func strip(_ text: String, _ chars: String?, leading: Bool = true, trailing: Bool = true) -> String {
        let set = chars.map { Set(scalars($0)) }
        let strippable: (Unicode.Scalar) -> Bool = { set?.contains($0) ?? isSpace($0) }
        let s = scalars(text)
        var start = 0, end = s.count
        if leading { while start < end && strippable(s[start]) { start += 1 } }
        if trailing { while end > start && strippable(s[end - 1]) { end -= 1 } }
        return string(s[start..<end])
    }

    /// `str.replace(old, new, count)`; count < 0 replaces all.
    static func replace(_ text: String, _ old: String, _ new: String, count: Int = -1) -> String {
        let s = scalars(text), o = scalars(old), n = scalars(new)
        var out: Scalars = []
        var done = 0
        if o.isEmpty {
            // Python inserts `new` before every character and at the end.
            for scalar in s {
                if count < 0 || done < count { out += n; done += 1 }
                out.append(scalar)
            }
            if count < 0 || done < count { out += n }
            return string(out)
        }
        var i = 0
        while i < s.count {
            if (count < 0 || done < count), let at = find(o, in: s, from: i), at >= i {
                out += s[i..<at]
                out += n
                i = at + o.count
                done += 1
            } else {
                out += s[i...]
                break
            }
        }
        return string(out)
    }

    /// `str.split(sep, maxsplit)`; whitespace runs when `sep` is nil.
    static func split(_ text: String, _ sep: String?, maxSplit: Int = -1) throws -> [String] {
        let s = scalars(text)
        guard let sep else {
            var parts: [String] = []
            var i = 0
            while i < s.count {
                while i < s.count && isSpace(s[i]) { i += 1 }
                if i == s.count { break }
                if maxSplit >= 0 && parts.count == maxSplit {
                    // The rest, trailing whitespace and all (as CPython does).
                    parts.append(string(s[i...]))
                    return parts
                }
                let start = i
                while i < s.count && !isSpace(s[i]) { i += 1 }
                parts.append(string(s[start..<i]))
            }
            return parts
        }
        let p = scalars(sep)
        guard !p.isEmpty else { throw JinjaError("split: empty separator") }
        var parts: [String] = []
        var i = 0
        while maxSplit < 0 || parts.count < maxSplit, let at = find(p, in: s, from: i) {
            parts.append(string(s[i..<at]))
            i = at + p.count
        }
        parts.append(string(s[i...]))
        return parts
    }

    /// `str.rsplit(sep, maxsplit)`.
    static func rsplit(_ text: String, _ sep: String?, maxSplit: Int = -1) throws -> [String] {
        if maxSplit < 0 { return try split(text, sep) }
        // Splitting the reversed text with the reversed separator finds the same places.
        let reversedText = string(scalars(text).reversed())
        let reversedSep = sep.map { string(scalars($0).reversed()) }
        return try split(reversedText, reversedSep, maxSplit: maxSplit).reversed().map { string(scalars($0).reversed()) }
    }

    /// Characters `str.splitlines()` breaks at.
    static func isLineBreak(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029: return true
        default: return false
        }
    }

    /// `str.splitlines(keepends)`: "\r\n" is one break.
    static func splitLines(_ text: String, keepEnds: Bool = false) -> [String] {
        let s = scalars(text)
        var lines: [String] = []
        var start = 0, i = 0
        while i < s.count {
            if isLineBreak(s[i]) {
                var end = i + 1
                if s[i] == "\r" && end < s.count && s[end] == "\n" { end += 1 }
                lines.append(string(s[start..<(keepEnds ? end : i)]))
                start = end
                i = end
            } else {
                i += 1
            }
        }
        if start < s.count { lines.append(string(s[start...])) }
        return lines
    }

    static func upper(_ text: String) -> String { text.uppercased() }
    static func lower(_ text: String) -> String { text.lowercased() }

    private static func isCased(_ s: Unicode.Scalar) -> Bool {
        s.properties.isLowercase || s.properties.isUppercase || s.properties.generalCategory == .titlecaseLetter
    }

    private static func titleCase(_ s: Unicode.Scalar) -> String {
        s.properties.titlecaseMapping
    }

    /// `str.capitalize()`: first character title-cased, the rest lower-cased.
    static func capitalize(_ text: String) -> String {
        let s = scalars(text)
        guard let first = s.first else { return "" }
        return titleCase(first) + lower(string(s.dropFirst()))
    }

    /// `str.title()`: a letter after a cased letter is lower-cased, any other is title-cased.
    static func title(_ text: String) -> String {
        var out = ""
        var previousCased = false
        for scalar in text.unicodeScalars {
            out += previousCased ? lower(String(scalar)) : titleCase(scalar)
            previousCased = isCased(scalar)
        }
        return out
    }

    /// Python's `repr()` of a string: single quotes unless the text has a ' and no ".
    static func repr(_ text: String) -> String {
        let quote: Unicode.Scalar = text.unicodeScalars.contains("'") && !text.unicodeScalars.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case quote, "\\": out += "\\" + String(scalar)
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if isPrintable(scalar) {
                    out.unicodeScalars.append(scalar)
                } else if scalar.value < 0x100 {
                    out += "\\x" + hex(scalar.value, digits: 2)
                } else if scalar.value < 0x10000 {
                    out += "\\u" + hex(scalar.value, digits: 4)
                } else {
                    out += "\\U" + hex(scalar.value, digits: 8)
                }
            }
        }
        out.unicodeScalars.append(quote)
        return out
    }

    /// Python's `str.isprintable()` for one character: not a control, format, separator
    /// (except the space), surrogate, private-use or unassigned character.
    static func isPrintable(_ s: Unicode.Scalar) -> Bool {
        if s == " " { return true }
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
             .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
