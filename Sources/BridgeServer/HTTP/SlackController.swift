import ChannelKit
import Foundation
import Hummingbird
import Logging
import SlackChannel
import UniversalInbox

/// `POST /webhooks/slack/{id}`: Events API and interactivity from the agent console. A thread reply
/// becomes a reply to the customer (queued before Slack is answered); a button acts on the ticket
/// through the same inbox operations as the REST API.
struct SlackController: Sendable {
    let consoles: [String: SlackConsole]
    let inbox: Inbox
    let registry: ChannelRegistry
    let transport: any HTTPTransport
    let metrics: BridgeMetrics
    let maxBodyBytes: Int
    let names = AgentNames()

    func addRoutes(to router: Router<BridgeRequestContext>) {
        router.post("/webhooks/slack/:accountId") { request, context in try await receive(request, context) }
    }

    func receive(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let id = context.parameters.get("accountId") ?? ""
        guard let console = consoles[id] else {
            metrics.webhook(channel: "slack", outcome: "unknown_account")
            throw APIError(status: .notFound, code: "unknown_account", message: "no slack account \"\(id)\" is configured")
        }
        let body = try await request.readBody(upTo: maxBodyBytes)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let incoming = WebhookRequest(method: "POST", headers: headers, body: Data(buffer: body))
        let inbound: SlackInbound
        do {
            try console.verify(incoming)
            inbound = try console.parse(incoming)
        } catch {
            metrics.webhook(channel: "slack", outcome: error.status == 401 ? "unauthorized" : "malformed")
            throw APIError(status: .init(code: error.status), code: error.code, message: error.message)
        }
        metrics.webhook(channel: "slack", outcome: "accepted")
        switch inbound {
        case .urlVerification(let challenge):
            return JSONResponse.text(challenge)
        case .ignored:
            return JSONResponse.text("")
        case .threadReply(let reply):
            try await handle(reply, console: console, logger: context.logger)
        case .action(let action):
            try await handle(action, console: console)
        }
        return JSONResponse.text("")
    }

    private func handle(_ reply: SlackThreadReply, console: SlackConsole, logger: Logger) async throws {
        guard try await inbox.recordOnce(account: console.accountKey, eventId: reply.eventId),
            let ticketId = try await inbox.ticket(consoleAccount: console.accountKey, channel: reply.channel, thread: reply.threadTs)
        else { return }
        let agent = await names.name(reply.user, console: console, transport: transport)
        let registry = self.registry
        do {
            _ = try await inbox.queueReply(ticketId: ticketId, content: .text(reply.text), author: "slack:\(agent)") { target in
                registry.refusal(for: target)
            }
        } catch let error as InboxError {
            let why: String
            switch error {
            case .refused(let send): why = send.reason
            case .conflict(_, let message), .invalid(_, let message), .unprocessable(_, let message), .forbidden(_, let message): why = message
            case .notFound(let what): why = "\(what) does not exist"
            }
            notify(console, reply.threadTs, "❌ not sent to the customer: \(why)")
        }
    }

    private func handle(_ action: SlackAction, console: SlackConsole) async throws {
        guard try await inbox.recordOnce(account: console.accountKey, eventId: action.eventId) else { return }
        let agent = await names.name(action.user, console: console, transport: transport)
        let line: String
        let actor = Caller(agentId: nil, name: "slack:\(agent)", role: .agent)
        do {
            switch action.kind {
            case .claim:
                _ = try await inbox.claim(ticketId: action.ticketId, by: agent)
                line = "👤 claimed by \(agent)"
            case .resolve:
                _ = try await inbox.setStatus(ticketId: action.ticketId, to: .resolved, by: actor)
                line = "✔ resolved by \(agent)"
            case .spam:
                _ = try await inbox.setStatus(ticketId: action.ticketId, to: .spam, by: actor)
                line = "🚫 marked as spam by \(agent)"
            }
        } catch let error as InboxError {
            line = "❌ \(action.kind.rawValue) failed: \(error)"
        }
        notify(console, action.threadTs, line)
    }

    /// Posts a notice in the thread after Slack has been answered (it wants an answer within 3 s).
    private func notify(_ console: SlackConsole, _ thread: String, _ text: String) {
        let transport = self.transport
        Task { try? await console.postInThread(thread, text: text, transport: transport) }
    }
}

/// Slack user → agent name, looked up once per user.
actor AgentNames {
    private var known: [String: String] = [:]

    func name(_ user: String, console: SlackConsole, transport: any HTTPTransport) async -> String {
        if let name = known[user] { return name }
        let name = await console.agentName(for: user, transport: transport)
        known[user] = name
        return name
    }
}
