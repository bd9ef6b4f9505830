import Foundation
import Hummingbird
import UniversalInbox

/// Exports: a ticket's transcript as HTML, the ticket list (any filter) as CSV, and signed links
/// that show a customer their own ticket history (without internal notes).
struct ExportController: Sendable {
    let inbox: Inbox
    let links: HistoryLinks
    let publicBaseURL: String?
    let metrics: BridgeMetrics
    static let maxRows = 50_000

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("tickets/:id/transcript") { request, context in
            let (id, actor, query) = (try context.id(), try context.requireCaller(), try request.query())
            let (withNotes, zone) = (try query.boolean("notes") ?? true, try Self.timeZone(query))
            try await inbox.authorize(actor, .read, .ticket(id))
            guard let ticket = try await transcript(id, notes: withNotes) else { throw APIError.notFound("ticket \(id) does not exist") }
            let html = TranscriptHTML.render(
                title: "Ticket #\(id) — \(ticket.summary.contact.displayName ?? "customer")", tickets: [ticket], agentNames: try await agentNames(),
                customerView: false, timeZone: zone)
            return Self.html(html)
        }
        group.get("tickets/export.csv") { request, context in try await csv(request, context) }
        group.post("contacts/:id/history-link") { request, context in try await link(request, context) }
    }

    /// `GET /history/{token}`: public, for the customer.
    func addPublicRoutes(to router: Router<BridgeRequestContext>) {
        router.get("/history/:token") { _, context in
            let token = context.parameters.get("token") ?? ""
            switch links.check(token) {
            case .invalid: return Self.html(page("This link is not valid."), status: .notFound)
            case .expired: return Self.html(page("This link has expired."), status: .gone)
            case .valid(let contactId):
                guard let contact = try await inbox.contact(id: contactId) else { return Self.html(page("This link is not valid."), status: .notFound) }
                var tickets: [TranscriptHTML.Ticket] = []
                for id in try await inbox.tickets(ofContact: contactId) {
                    if let ticket = try await transcript(id, notes: false) { tickets.append(ticket) }
                }
                let html = TranscriptHTML.render(
                    title: "Your conversations with us" + (contact.displayName.map { " — \($0)" } ?? ""), tickets: tickets,
                    agentNames: try await agentNames(), customerView: true)
                return Self.html(html)
            }
        }
    }

    /// `tz`: the IANA time zone the reader's page sends (`Asia/Tokyo`); UTC when left out. A value
    /// that cannot be a zone name (openapi.yaml's pattern) is a 400; a well-formed name this system
    /// does not know (`Mars/Olympus`) is a 422, as every rule the document cannot state.
    static func timeZone(_ query: Parameters) throws -> TimeZone {
        guard let name = try query.single("tz") else { return TranscriptHTML.utc }
        guard name.utf8.count <= 64, String(name).wholeMatch(of: /[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+){0,2}/) != nil else {
            throw APIError.badRequest("invalid_tz", "tz must be an IANA time zone name such as Asia/Tokyo or UTC")
        }
        guard let zone = TimeZone(identifier: String(name)) else {
            throw APIError.unprocessable("invalid_tz", "tz \"\(name)\" is not a time zone this server knows (IANA names such as Asia/Tokyo or UTC)")
        }
        return zone
    }

    /// Transcripts and history pages hold customers' words: served so that nothing in them can
    /// run (no script at all, only the page's own inline style), never cached or sniffed.
    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .init("Referrer-Policy")!: "no-referrer",
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                .xContentTypeOptions: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `POST /api/v1/contacts/{id}/history-link {"days": 7}`.
    func link(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        struct Body: Decodable { var days: Int? = nil }
        struct Link: Encodable {
            var url: String
            var expiresAt: Date
        }
        let id = try context.id()
        // The link shows every ticket of the contact: only for someone who may read them all.
        try await inbox.authorize(try context.requireCaller(), .read, .contactHistory(id))
        let body = try await request.decode(Body.self, whenEmpty: Body())
        let days = body.days ?? 7
        guard (1...90).contains(days) else { throw APIError.badRequest("invalid_days", "days must be 1 to 90") }
        let expiresAt = Date().addingTimeInterval(Double(days) * 86400).rounded()
        let path = "/history/" + links.token(contactId: id, expiresAt: expiresAt)
        return JSONResponse.make(Link(url: (publicBaseURL ?? "") + path, expiresAt: expiresAt), status: .created)
    }

    /// `GET /api/v1/tickets/export.csv?…`: the list's filters, every page.
    func csv(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let actor = try context.requireCaller()
        var query = try await TicketFilter.query(try request.query(), actor: actor, inbox: inbox)
        query.actor = actor
        query.limit = 200
        query.cursor = nil
        let names = try await agentNames()
        let text = try await context.search(metrics: metrics) { [inbox, query] in
            var query = query
            var text = CSV.row(["id", "status", "priority", "contact_id", "contact_name", "channels", "assignee", "department_id", "tags", "created_at", "updated_at", "resolved_at"])
            var rows = 0
            repeat {
                let page = try await inbox.listTickets(query)
                for t in page.items {
                    text += CSV.row([
                        String(t.id), t.status.rawValue, t.priority.rawValue, String(t.contact.id), t.contact.displayName ?? "", t.channels.joined(separator: " "),
                        t.agentId.flatMap { names[$0] } ?? t.assignee ?? "", t.departmentId.map(String.init) ?? "", t.tags.joined(separator: " "),
                        TranscriptHTML.time(t.createdAt), TranscriptHTML.time(t.updatedAt), t.resolvedAt.map(TranscriptHTML.time) ?? "",
                    ])
                }
                rows += page.items.count
                query.cursor = page.nextCursor
            } while query.cursor != nil && rows < Self.maxRows
            return text
        }
        return Response(
            status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"tickets.csv\""],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private func transcript(_ id: Int64, notes: Bool) async throws -> TranscriptHTML.Ticket? {
        guard let summary = try await inbox.ticket(id: id), let messages = try await inbox.messages(ticketId: id) else { return nil }
        return TranscriptHTML.Ticket(summary: summary, messages: messages, notes: notes ? try await inbox.notes(ticketId: id) ?? [] : [])
    }

    private func agentNames() async throws -> [Int64: String] {
        Dictionary(uniqueKeysWithValues: try await inbox.agents().map { ($0.id, $0.name) })
    }

    private func page(_ text: String) -> String {
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>\(text)</title></head><body><p>\(text)</p></body></html>\n"
    }
}

extension Date {
    /// Whole seconds (links carry Unix seconds).
    func rounded() -> Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down)) }
}
