import Foundation
import UniversalInbox

/// A readable HTML transcript of tickets: who wrote what, when, on which channel. Agents' copies
/// may include internal notes; the customer's never do. Everything from users is HTML-escaped.
/// Times are shown in the reader's time zone (the agent's page sends it) and the zone is named.
enum TranscriptHTML {
    struct Ticket {
        var summary: TicketSummary
        var messages: [StoredMessage]
        var notes: [TicketNote]
    }

    static let utc = TimeZone(identifier: "UTC")!

    static func render(title: String, tickets: [Ticket], agentNames: [Int64: String], customerView: Bool, timeZone: TimeZone = utc) -> String {
        let time = { (date: Date) in Self.time(date, in: timeZone) }  // every time on the page is in the reader's zone
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex"><title>\(escape(title))</title>
            <style>
            body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
            h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ddd}
            .m{margin:.6rem 0;padding:.5rem .8rem;border-radius:.5rem;max-width:85%}
            .in{background:#f1f1f1}.out{background:#dbeafe;margin-left:auto}.note{background:#fef3c7;border:1px dashed #d97706}
            .meta{font-size:.75rem;color:#666}
            </style></head><body>
            <h1>\(escape(title))</h1>
            <p class="meta">Times in \(escape(zoneName(timeZone)))</p>

            """
        for ticket in tickets {
            let s = ticket.summary
            html += "<h2>Ticket #\(s.id) · \(escape(s.status.rawValue))</h2>\n"
            html += "<p class=\"meta\">Opened \(time(s.createdAt)) · channels: \(escape(s.channels.joined(separator: ", ")))"
            if !customerView, let assignee = s.assignee { html += " · assigned to \(escape(assignee))" }
            html += "</p>\n"
            var entries: [(Date, String)] = ticket.messages.map { message in
                let who = message.direction == .inbound ? (s.contact.displayName ?? "Customer") : author(message.author, agentNames)
                let attachments = message.attachments.isEmpty ? "" : " · \(message.attachments.count) attachment(s)"
                return (message.createdAt, """
                    <div class="m \(message.direction == .inbound ? "in" : "out")"><div class="meta">\(escape(who)) · \(time(message.createdAt)) · \(escape(message.channel))\(attachments)</div>\(escape(message.text).replacingOccurrences(of: "\n", with: "<br>"))</div>

                    """)
            }
            if !customerView {
                entries += ticket.notes.map { note in
                    (note.createdAt, """
                        <div class="m note"><div class="meta">Internal note · \(escape(note.author)) · \(time(note.createdAt))</div>\(escape(note.text).replacingOccurrences(of: "\n", with: "<br>"))</div>

                        """)
                }
            }
            html += entries.sorted { $0.0 < $1.0 }.map(\.1).joined()
        }
        return html + "</body></html>\n"
    }

    static func author(_ author: String?, _ names: [Int64: String]) -> String {
        guard let author else { return "Support" }
        if author.hasPrefix("agent:"), let id = Int64(author.dropFirst(6)) { return names[id] ?? "Support" }
        if author.hasPrefix("slack:") { return String(author.dropFirst(6)) }
        return "Support"
    }

    /// `2024-01-01 23:30:00Z`: UTC, as the CSV export writes times.
    static func time(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle().year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted)).replacingOccurrences(of: "T", with: " ")
    }

    /// `2024-01-02 08:30:00 +09:00`: the date and time in `zone`, with its offset.
    static func time(_ date: Date, in zone: TimeZone) -> String {
        let offset = zone.secondsFromGMT(for: date)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let sign = offset < 0 ? "-" : "+"
        func two(_ n: Int?) -> String { String(format: "%02d", n ?? 0) }
        return String(format: "%04d", c.year ?? 0) + "-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) "
            + "\(sign)\(two(abs(offset) / 3600)):\(two(abs(offset) % 3600 / 60))"
    }

    /// `Asia/Tokyo (UTC+09:00)`, or `UTC`.
    static func zoneName(_ zone: TimeZone, at date: Date = Date()) -> String {
        guard !["UTC", "GMT"].contains(zone.identifier) else { return "UTC" }  // Foundation names UTC "GMT"
        let offset = time(date, in: zone).suffix(6)
        return "\(zone.identifier) (UTC\(offset))"
    }

    /// Escapes over Unicode scalars, not `Character`s: a customer's `"\u{600}<"` is one Character
    /// (U+0600 prepends to what follows), and a check on Characters would let its `<` through.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
