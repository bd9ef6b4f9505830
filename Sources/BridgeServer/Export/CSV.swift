/// CSV rows (RFC 4180) that a spreadsheet opens as data, never as formulas or extra rows.
///
/// Checks are on Unicode scalars, not `Character`s: `"\r\n"` is one `Character` in Swift, so a
/// check for `"\n"` among characters misses a customer's `"Mallory\r\n=2+5"`.
enum CSV {
    static func row(_ cells: [String]) -> String {
        cells.map(cell).joined(separator: ",") + "\r\n"
    }

    static func cell(_ value: String) -> String {
        var text = value
        // A cell a spreadsheet would evaluate starts with one of these: make it text.
        if let first = text.unicodeScalars.first, "=+-@\t\r\n".unicodeScalars.contains(first) { text = "'" + text }
        let needsQuotes = text.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
        guard needsQuotes else { return text }
        // Quotes doubled scalar by scalar too: `"\u{301}` is one Character that is not `"`.
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for scalar in text.unicodeScalars {
            quoted.append(scalar)
            if scalar == "\"" { quoted.append("\"") }
        }
        quoted.append("\"")
        return String(quoted)
    }
}
