import Foundation
import Hummingbird
import HummingbirdCore
import UniversalInbox

/// Mass actions: one action on a selection of tickets or on every ticket a filter finds. Each ticket
/// is changed in its own transaction; one ticket's refusal (closed, not the caller's, outside the
/// window...) is reported for that ticket and does not stop the others.
struct BulkController: Sendable {
    let inbox: Inbox
    let registry: ChannelRegistry
    /// The most tickets one request may act on.
    static let maxTickets = 5000

    struct Body: Decodable {
        var ticketIds: [Int64]?
        /// A ticket-list query string, e.g. `status=open&tag=vip`.
        var filter: String?
        var changes: Changes?
        var transfer: Transfer?
        var reply: ReplyRequest?

        struct Changes: Decodable {
            var status: String?
            var priority: String?
            var resolutionReason: String?
            var addTags: [String]?
            var removeTags: [String]?
        }

        struct Transfer: Decodable {
            var agentId: Int64?
            var departmentId: Int64?
            var note: String?
        }
    }

    struct Outcome: Encodable {
        struct Failure: Encodable {
            var code: String
            var message: String
        }
        var ticketId: Int64
        var ok: Bool
        var error: Failure?
    }

    struct Report: Encodable {
        var succeeded: Int
        var failed: Int
        var items: [Outcome]
    }

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.post("tickets/bulk") { request, context in try await bulk(request, context) }
    }

    func bulk(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let actor = try context.requireCaller()
        let body = try await request.decode(Body.self, maxBytes: 1 << 20)
        guard [body.changes != nil, body.transfer != nil, body.reply != nil].filter({ $0 }).count == 1 else {
            throw APIError.unprocessable("one_action", "send exactly one of changes, transfer or reply")
        }
        let action = try self.action(body, actor: actor)
        let ids = try await tickets(body, actor: actor)
        var items: [Outcome] = []
        for id in ids {
            do {
                try await action(id)
                items.append(Outcome(ticketId: id, ok: true))
            } catch {
                let failure = Self.failure(error)
                items.append(Outcome(ticketId: id, ok: false, error: .init(code: failure.code, message: failure.message)))
            }
        }
        let succeeded = items.filter(\.ok).count
        return JSONResponse.make(Report(succeeded: succeeded, failed: items.count - succeeded, items: items))
    }

    /// The ticket ids named, or found by the filter (as the caller may see them), oldest activity last.
    private func tickets(_ body: Body, actor: Caller) async throws -> [Int64] {
        switch (body.ticketIds, body.filter) {
        case (let ids?, nil):
            guard !ids.isEmpty, ids.count <= Self.maxTickets else {
                throw APIError.badRequest("invalid_selection", "select 1 to \(Self.maxTickets) tickets")
            }
            var seen = Set<Int64>()
            return ids.filter { seen.insert($0).inserted }
        case (nil, let filter?):
            var query = try await TicketFilter.query(filter: filter, actor: actor, inbox: inbox)
            query.actor = actor
            query.limit = 200
            var ids: [Int64] = []
            repeat {
                let page = try await inbox.listTickets(query)
                ids += page.items.map(\.id)
                query.cursor = page.nextCursor
                if ids.count > Self.maxTickets {
                    throw APIError.unprocessable("too_many_tickets", "the filter finds more than \(Self.maxTickets) tickets; narrow it")
                }
            } while query.cursor != nil
            return ids
        default:
            throw APIError.unprocessable("invalid_selection", "send ticketIds or filter (one of them)")
        }
    }

    private func action(_ body: Body, actor: Caller) throws -> @Sendable (Int64) async throws -> Void {
        let inbox = self.inbox
        if let changes = body.changes {
            let parsed = TicketChanges(
                status: try changes.status.map { try parseEnum($0, as: TicketStatus.self, field: "status") },
                priority: try changes.priority.map { try parseEnum($0, as: TicketPriority.self, field: "priority") },
                resolutionReason: try changes.resolutionReason.map { try parseEnum($0, as: ResolutionReason.self, field: "resolutionReason") },
                addTags: changes.addTags ?? [], removeTags: changes.removeTags ?? [])
            return { id in _ = try await inbox.updateTicket(id, parsed, by: actor) }
        }
        if let transfer = body.transfer {
            let target = TransferTarget(agentId: transfer.agentId, departmentId: transfer.departmentId)
            return { id in _ = try await inbox.transfer(ticketId: id, to: target, note: transfer.note, by: actor) }
        }
        let reply = body.reply!
        try reply.check()  // a malformed reply fails the request, not each ticket
        let composer = ReplyComposer(inbox: inbox, registry: registry)
        return { id in _ = try await composer.send(reply, to: id, by: actor, checkVersion: false) }
    }

    static func failure(_ error: any Error) -> (code: String, message: String) {
        switch error {
        case let error as InboxError:
            let api = APIError(error)
            return (api.code, api.message)
        case let error as APIError: return (error.code, error.message)
        case let error as ReplyComposer.ForbiddenWords: return ("forbidden_words", error.message)
        default: return ("internal", "the bridge could not complete this ticket")
        }
    }
}
