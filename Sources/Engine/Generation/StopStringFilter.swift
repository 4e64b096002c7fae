/// Cuts streamed text at the first stop string, without ever printing part of one.
///
/// Text that might be the beginning of a stop string is held back until the next piece
/// shows whether it is; matching is on UTF-8 bytes, so it is exact for any text.
public struct StopStringFilter: Sendable {
    public let stopStrings: [String]
    private var pending: [UInt8] = []
    public private(set) var stopped = false

    public init(stopStrings: [String]) {
        self.stopStrings = stopStrings.filter { !$0.isEmpty }
    }

    /// Adds a piece of text; returns what can be shown now. After a stop string was seen,
    /// `stopped` is true and everything from the stop string on is dropped.
    public mutating func push(_ text: String) -> String {
        guard !stopped else { return "" }
        guard !stopStrings.isEmpty else { return text }
        pending += Array(text.utf8)
        if let cut = earliestStop() {
            stopped = true
            let shown = String(decoding: pending[..<cut], as: UTF8.self)
            pending = []
            return shown
        }
        let keep = longestSuffixThatStartsAStop()
        let shown = String(decoding: pending[..<(pending.count - keep)], as: UTF8.self)
        pending.removeFirst(pending.count - keep)
        return shown
    }

    /// Text still held back at the end of generation (it never became a stop string).
    public mutating func flush() -> String {
        defer { pending = [] }
        return stopped ? "" : String(decoding: pending, as: UTF8.self)
    }

    private func earliestStop() -> Int? {
        var earliest: Int?
        for stop in stopStrings {
            let needle = Array(stop.utf8)
            guard needle.count <= pending.count else { continue }
            for start in 0...(pending.count - needle.count) where pending[start..<(start + needle.count)].elementsEqual(needle) {
                if earliest.map({ start < $0 }) ?? true { earliest = start }
                break
            }
        }
        return earliest
    }

    /// Length of the longest tail of `pending` that is a proper prefix of a stop string.
    private func longestSuffixThatStartsAStop() -> Int {
        var longest = 0
        for stop in stopStrings {
            let needle = Array(stop.utf8)
            for length in stride(from: min(needle.count - 1, pending.count), to: longest, by: -1)
            where pending[(pending.count - length)...].elementsEqual(needle[..<length]) {
                longest = length
                break
            }
        }
        return longest
    }
}
