import Foundation

/// Takes quoted history and the signature off a reply, for display. The untrimmed text is kept
/// beside it (`ParsedMail.fullText`), so nothing the customer sent is lost.
///
/// Cut at the first of: an attribution line ("On … wrote:", "… のメッセージ:", "…さんは書きました:",
/// also when a mailer wrapped it over two lines), an "Original Message" separator, or an Outlook
/// rule of underscores; then the trailing block of `>` lines (interleaved quotes between the
/// customer's own lines are kept: they are the customer's context), then from a signature
/// separator "-- " on. If nothing would remain, the text is shown whole.
enum QuoteTrimmer {
    static func trim(_ text: String) -> String {
        var lines = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
        if let cut = attributionIndex(lines) { lines = Array(lines[..<cut]) }
        // The trailing block of quoted lines (and blank lines among them).
        var end = lines.count
        while end > 0, isQuoted(lines[end - 1]) || lines[end - 1].trimmingCharacters(in: .whitespaces).isEmpty { end -= 1 }
        if lines[end...].contains(where: isQuoted) { lines = Array(lines[..<end]) }
        if let signature = lines.firstIndex(where: { $0 == "-- " || $0 == "--" || $0 == "—" }) { lines = Array(lines[..<signature]) }
        let trimmed = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? text.trimmingCharacters(in: .whitespacesAndNewlines) : trimmed
    }

    private static func isQuoted(_ line: String) -> Bool { line.hasPrefix(">") }

    private static func attributionIndex(_ lines: [String]) -> Int? {
        for (index, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if isSeparator(line) { return index }
            if isAttribution(line) { return index }
            // "On Tue, 14 Nov 2023 at 10:00, Ana <ana@example.com>" / "wrote:" split by a mailer.
            if index + 1 < lines.count, line.hasPrefix("On ") || line.hasSuffix(","),
               isAttribution(line + " " + lines[index + 1].trimmingCharacters(in: .whitespaces)), line.hasPrefix("On ") {
                return index
            }
        }
        return nil
    }

    private static func isAttribution(_ line: String) -> Bool {
        let colonless = line.hasSuffix(":") || line.hasSuffix("：") ? String(line.dropLast()) : nil
        guard let body = colonless else { return false }
        if body.hasPrefix("On "), body.hasSuffix(" wrote") { return true }
        if body.hasPrefix("Le "), body.hasSuffix(" a écrit") { return true }
        if body.hasPrefix("Am "), body.hasSuffix(" schrieb") { return true }
        if body.hasSuffix("のメッセージ") || body.hasSuffix("書きました") || body.hasSuffix("書きました。") { return true }
        return false
    }

    private static func isSeparator(_ line: String) -> Bool {
        let lowered = line.lowercased()
        if lowered.hasPrefix("-") && lowered.hasSuffix("-") && (lowered.contains("original message") || lowered.contains("元のメッセージ")) { return true }
        if line.count >= 20 && line.allSatisfy({ $0 == "_" }) { return true }
        return false
    }
}
