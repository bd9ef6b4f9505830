import Foundation

/// Dates and date-times as RFC 3339 writes them (what openapi.yaml's `format: date` and
/// `format: date-time` mean): every such value is read, nothing else is. Foundation's ISO 8601
/// style refuses fractional seconds unless told and rolls `02-30` over into March.
public enum RFC3339 {
    /// `YYYY-MM-DD` (full-date), as midnight UTC.
    public static func date(_ text: String) -> Date? {
        var reader = Reader(text)
        guard let date = reader.fullDate(), reader.atEnd else { return nil }
        return Date(timeIntervalSince1970: Double(date) * 86400)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, `T` and `Z` in either case; a leap second (`:60`,
    /// at 23:59 UTC only) counts as the next second.
    public static func dateTime(_ text: String) -> Date? {
        var reader = Reader(text)
        guard let days = reader.fullDate(), reader.take(["T", "t"]),
            let hour = reader.number(2, in: 0...23), reader.take([":"]), let minute = reader.number(2, in: 0...59), reader.take([":"]),
            let second = reader.number(2, in: 0...60)
        else { return nil }
        var fraction = 0.0
        if reader.take(["."]) {
            guard let digits = reader.digits(), !digits.isEmpty else { return nil }
            fraction = Double("0." + digits) ?? 0
        }
        let offset: Int
        if reader.take(["Z", "z"]) {
            offset = 0
        } else {
            guard let sign = reader.next(), sign == "+" || sign == "-",
                let hours = reader.number(2, in: 0...23), reader.take([":"]), let minutes = reader.number(2, in: 0...59)
            else { return nil }
            offset = (sign == "-" ? -1 : 1) * (hours * 60 + minutes) * 60
        }
        guard reader.atEnd else { return nil }
        // A leap second is only ever the last second of a UTC day.
        if second == 60, ((hour * 60 + minute) * 60 - offset).modulo(86400) != (23 * 60 + 59) * 60 { return nil }
        let seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    private struct Reader {
        var scalars: [Unicode.Scalar]
        var index = 0

        init(_ text: String) { scalars = Array(text.unicodeScalars) }

        var atEnd: Bool { index == scalars.count }

        mutating func next() -> Unicode.Scalar? {
            guard index < scalars.count else { return nil }
            defer { index += 1 }
            return scalars[index]
        }

        mutating func take(_ options: Set<Unicode.Scalar>) -> Bool {
            guard index < scalars.count, options.contains(scalars[index]) else { return false }
            index += 1
            return true
        }

        /// Exactly `width` ASCII digits whose value is in `range`.
        mutating func number(_ width: Int, in range: ClosedRange<Int>) -> Int? {
            guard index + width <= scalars.count else { return nil }
            var value = 0
            for scalar in scalars[index..<index + width] {
                guard ("0"..."9").contains(scalar) else { return nil }
                value = value * 10 + Int(scalar.value - 48)
            }
            index += width
            return range.contains(value) ? value : nil
        }

        mutating func digits() -> String? {
            var text = ""
            while index < scalars.count, ("0"..."9").contains(scalars[index]), text.count < 30 {
                text.unicodeScalars.append(scalars[index])
                index += 1
            }
            return text
        }

        /// `YYYY-MM-DD` with a day that exists in that month, as days since 1970-01-01.
        mutating func fullDate() -> Int? {
            guard let year = number(4, in: 0...9999), take(["-"]), let month = number(2, in: 1...12), take(["-"]),
                let day = number(2, in: 1...31), day <= Self.days(in: month, of: year)
            else { return nil }
            return Self.daysSinceEpoch(year: year, month: month, day: day)
        }

        static func days(in month: Int, of year: Int) -> Int {
            switch month {
            case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
            case 4, 6, 9, 11: 30
            default: 31
            }
        }

        /// Howard Hinnant's `days_from_civil` (proleptic Gregorian calendar).
        static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
            let y = month <= 2 ? year - 1 : year
            let era = (y >= 0 ? y : y - 399) / 400
            let yearOfEra = y - era * 400
            let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
            let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
            return era * 146097 + dayOfEra - 719468
        }
    }
}

extension Int {
    fileprivate func modulo(_ n: Int) -> Int { ((self % n) + n) % n }
}
