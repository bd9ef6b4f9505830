import Foundation
import Hummingbird
import UniversalInbox

/// Service reports for a period (owners and admins), as JSON or CSV (`format=csv`).
/// `from` and `to` are ISO-8601 dates or date-times (UTC); a `to` date includes that whole day.
struct ReportsController: Sendable {
    let inbox: Inbox
    /// When the daily summary goes out, and whether e-mail is configured at all.
    let summary: BridgeConfig.ReportsConfig
    let mailing: Bool

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("reports/agents") { request, context in
            _ = try context.requireSettingsManager()
            let (from, to, csv) = try period(request)
            let rows = try await inbox.agentReport(from: from, to: to)
            guard csv else { return JSONResponse.make(Period(from: from, to: to, items: rows)) }
            var text = CSV.row([
                "rank", "agent_id", "name", "tickets_handled", "tickets_resolved", "median_first_response_seconds", "median_resolution_seconds",
                "resolution_rate", "ratings_good", "ratings_bad", "satisfaction",
            ])
            for r in rows {
                text += CSV.row([
                    String(r.rank), String(r.agentId), r.name, String(r.ticketsHandled), String(r.ticketsResolved), number(r.medianFirstResponseSeconds),
                    number(r.medianResolutionSeconds), number(r.resolutionRate), String(r.ratingsGood), String(r.ratingsBad), number(r.satisfaction),
                ])
            }
            return csvResponse(text, "agents")
        }
        group.get("reports/channels") { request, context in
            _ = try context.requireSettingsManager()
            let (from, to, csv) = try period(request)
            let rows = try await inbox.channelReport(from: from, to: to)
            guard csv else { return JSONResponse.make(Period(from: from, to: to, items: rows)) }
            var text = CSV.row(["channel", "new_tickets", "inbound_messages", "outbound_messages"])
            for r in rows { text += CSV.row([r.channel, String(r.newTickets), String(r.inboundMessages), String(r.outboundMessages)]) }
            return csvResponse(text, "channels")
        }
        group.get("reports/service") { request, context in
            _ = try context.requireSettingsManager()
            let params = try request.query()
            let (from, to, timeZone) = try ServicePeriod.parse(params)
            let format = try params.value("format", as: ReportFormat.self) ?? .json
            let table = try params.value("table", as: ServiceReportCSV.Table.self) ?? .days
            let report = try await inbox.serviceReport(from: from, to: to, timeZone: timeZone)
            guard format == .csv else { return JSONResponse.make(report) }
            return csvResponse(ServiceReportCSV.text(report, table), table.rawValue)
        }
        group.get("reports/daily-summary") { _, context in
            _ = try context.requireSettingsManager()
            struct Recipient: Encodable {
                var agentId: Int64
                var name: String
                var email: String
            }
            struct Summary: Encodable {
                var sending: Bool
                var hour: Int
                var timeZone: String
                var recipients: [Recipient]
            }
            let recipients = try await inbox.dailySummaryRecipients().map { Recipient(agentId: $0.id, name: $0.name, email: $0.email) }
            return JSONResponse.make(Summary(sending: mailing, hour: summary.summaryHour, timeZone: summary.timeZone.identifier, recipients: recipients))
        }
        group.put("reports/daily-summary/recipients/:id") { _, context in try await setRecipient(context, true) }
        group.delete("reports/daily-summary/recipients/:id") { _, context in try await setRecipient(context, false) }
    }

    /// Opts an owner or admin in to the daily summary, or out; an agent cannot receive it (422).
    private func setRecipient(_ context: BridgeRequestContext, _ enabled: Bool) async throws -> Response {
        _ = try context.requireSettingsManager()
        let id = try context.id()
        guard let agent = try await inbox.agent(id: id) else { throw APIError.notFound("agent \(id) does not exist") }
        if enabled, agent.role != .owner, agent.role != .admin {
            throw APIError.unprocessable("not_a_manager", "the daily summary goes to owners and admins only; \(agent.name) is an agent")
        }
        try await inbox.setDailySummary(agentId: id, enabled: enabled)
        return Response(status: .noContent)
    }

    struct Period<Item: Encodable>: Encodable {
        var from: Date
        var to: Date
        var items: [Item]
    }

    private func period(_ request: Request) throws -> (Date, Date, Bool) {
        let params = try request.query()
        guard let fromText = try params.single("from"), let toText = try params.single("to") else {
            throw APIError.badRequest("invalid_period", "from and to are required (e.g. from=2026-11-01&to=2026-11-30)")
        }
        let from = try TicketFilter.date(fromText, "from")
        var to = try TicketFilter.date(toText, "to")
        if toText.count == 10 { to = to.addingTimeInterval(86400) }
        let format = try params.value("format", as: ReportFormat.self) ?? .json
        guard from < to else { throw APIError.unprocessable("invalid_period", "from must be before to") }
        return (from, to, format == .csv)
    }

    private func number(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "" }

    private func csvResponse(_ text: String, _ name: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(name).csv\""],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// `format=` of reports: JSON (the default) or CSV.
enum ReportFormat: String, CaseIterable {
    case json, csv
}
