import Foundation

/// transformers' `strftime_now(format)` global: `datetime.now().strftime(format)`, local time,
/// English (C locale) names. Llama 3.x templates use it for "Today Date: 26 Jul 2024".
/// Directives: %a %A %b %B %d %e %H %I %j %m %M %p %S %y %Y %%, and glibc's "-" flag
/// (%-d: no padding). Anything else is an error naming the directive.
enum Strftime {
    private static let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    private static let months = ["January", "February", "March", "April", "May", "June", "July", "August",
                                 "September", "October", "November", "December"]

    static func format(_ format: String, date: Date, timeZone: TimeZone = .current) throws -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let dayOfYear = calendar.ordinality(of: .day, in: .year, for: date) ?? 1
        let (year, month, day) = (parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
        let (hour, minute, second) = (parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        let weekday = weekdays[((parts.weekday ?? 1) - 1) % 7]
        let monthName = months[(month - 1) % 12]

        var out = ""
        var scalars = Array(format.unicodeScalars)[...]
        while let scalar = scalars.popFirst() {
            guard scalar == "%" else {
                out.unicodeScalars.append(scalar)
                continue
            }
            let unpadded = scalars.first == "-"
            if unpadded { scalars.removeFirst() }
            guard let directive = scalars.popFirst() else {
                throw JinjaError("strftime_now: the format ends with a lone '%'")
            }
            func number(_ value: Int, width: Int, pad: Character = "0") -> String {
                let text = String(value)
                return unpadded ? text : String(repeating: pad, count: max(0, width - text.count)) + text
            }
            switch directive {
            case "a": out += String(weekday.prefix(3))
            case "A": out += weekday
            case "b", "h": out += String(monthName.prefix(3))
            case "B": out += monthName
            case "d": out += number(day, width: 2)
            case "e": out += number(day, width: 2, pad: " ")
            case "H": out += number(hour, width: 2)
            case "I": out += number(hour % 12 == 0 ? 12 : hour % 12, width: 2)
            case "j": out += number(dayOfYear, width: 3)
            case "m": out += number(month, width: 2)
            case "M": out += number(minute, width: 2)
            case "p": out += hour < 12 ? "AM" : "PM"
            case "S": out += number(second, width: 2)
            case "y": out += number(year % 100, width: 2)
            case "Y": out += String(year)
            case "%": out += "%"
            default:
                throw JinjaError("strftime_now: the directive '%\(unpadded ? "-" : "")\(directive)' is not supported")
            }
        }
        return out
    }
}
