import Email
import Foundation
import Logging
import ServiceLifecycle
import UniversalInbox

/// The daily summary e-mail: once the configured hour has come in the configured time zone, the
/// service report of the day before (the figures the console's Reports shows for that day) goes to
/// every owner and admin who opted in. One process runs the duty (`RunOnceLeaser`), and a day is
/// claimed in the database before it is sent (`claimDailySummary`), so it goes out once however
/// many processes run or take the duty over; a day whose sending failed is not sent again (a
/// summary late or twice helps nobody; the console has the figures).
struct DailySummaryWorker: Service {
    let inbox: Inbox
    let mailer: SMTPMailer
    let config: BridgeConfig.ReportsConfig
    let leaser: RunOnceLeaser
    let clock: @Sendable () -> Date
    /// How often the hour is checked.
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await WakeSignal().runUntilShutdown("daily-summary", leaser: leaser, interval: interval) {
            do {
                try await step()
            } catch {
                logger.warning("daily summary failed", metadata: ["error": "\(error)"])
            }
        }
    }

    func step() async throws {
        let now = clock()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = config.timeZone
        guard calendar.component(.hour, from: now) >= config.summaryHour else { return }
        let today = calendar.startOfDay(for: now)
        guard let yesterday = calendar.date(byAdding: .day, value: -1, to: today) else { return }
        let parts = calendar.dateComponents([.year, .month, .day], from: yesterday)
        let day = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        let recipients = try await inbox.dailySummaryRecipients()
        guard !recipients.isEmpty, try await inbox.claimDailySummary(day: day) else { return }
        let report = try await inbox.serviceReport(from: yesterday, to: today, timeZone: config.timeZone)
        let text = DailySummaryText.text(report)
        for agent in recipients {
            do {
                try await mailer.send(EmailMessage(
                    from: mailer.settings.from, to: agent.email, subject: "Service summary for \(day)", text: text,
                    id: "daily-summary-\(day)-\(agent.id)", date: now))
            } catch {
                logger.warning("daily summary not sent", metadata: ["agent": "\(agent.id)", "error": "\(error)"])
            }
        }
        logger.info("daily summary sent", metadata: ["day": "\(day)", "recipients": "\(recipients.count)"])
    }
}

/// The summary's text: the same figures as `GET /api/v1/reports/service` for that day.
enum DailySummaryText {
    static func text(_ report: ServiceReport) -> String {
        let day = report.days.first
        var lines = ["Service summary for \(day?.date ?? "") (\(report.timeZone))", ""]
        lines.append("Tickets opened: \(day?.opened ?? 0)")
        lines.append("Tickets resolved: \(day?.resolved ?? 0)")
        let (good, bad) = (day?.ratingsGood ?? 0, day?.ratingsBad ?? 0)
        lines.append("Ratings: \(good) good, \(bad) bad" + (day?.satisfaction.map { String(format: " (satisfaction %.0f%%)", $0 * 100) } ?? ""))
        lines.append("First response: " + durations(report.firstResponse))
        lines.append("Resolution: " + durations(report.resolution))
        let agents = report.agents.filter { $0.firstResponse.count + $0.resolution.count > 0 }
        if !agents.isEmpty {
            lines += ["", "By agent:"] + agents.map { "- \($0.name): first response \(durations($0.firstResponse)); resolution \(durations($0.resolution))" }
        }
        if !report.channels.isEmpty {
            lines += ["", "By channel:"] + report.channels.map {
                "- \($0.channel): \($0.opened) opened; first response \(durations($0.firstResponse)); resolution \(durations($0.resolution))"
            }
        }
        let busiest = report.busiestHours.joined().enumerated().max { $0.element < $1.element }
        if let busiest, busiest.element > 0 {
            let hour = busiest.offset % 24
            lines += ["", String(format: "Busiest hour: %02d:00-%02d:00 (%d customer messages)", hour, (hour + 1) % 24, busiest.element)]
        }
        lines += ["", "The console's Reports has these figures for any period."]
        return lines.joined(separator: "\n")
    }

    /// "median 5m 0s, 90% within 12m 0s (4)", or "none".
    static func durations(_ figures: ServiceReport.Durations) -> String {
        guard let median = figures.medianSeconds, let p90 = figures.p90Seconds else { return "none" }
        return "median \(clock(median)), 90% within \(clock(p90)) (\(figures.count))"
    }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60)
        return h > 0 ? "\(h)h \(m)m" : m > 0 ? "\(m)m \(s)s" : "\(s)s"
    }
}
