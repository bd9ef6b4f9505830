import ChannelKit
import Email
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import UniversalInbox
import WebchatChannel

/// The visitor API of the website chat widget, `/widget/v1/{accountId}/…`, public like a webhook:
/// the visitor token (`X-Visitor-Token`, `VisitorToken`) is the authority, never an agent's.
/// - `POST session` starts or resumes a chat: a new visitor id (or the one a valid token names)
///   and the widget's settings. Refused (403 `origin_not_allowed`) unless the embedding page's
///   origin, which the widget page reads from its parent and posts as `page`, is one of the
///   account's `allowedOrigins`, and the request itself comes from the bridge's own page (`Origin`).
///   The browser enforces the same list by the widget page's `frame-ancestors`; the server can see
///   only what it is told, so this is the check for clients that are not a browser frame.
/// - `POST messages` files a message (or a receipt) through `inbox.ingest`, like any webhook: the
///   widget's `id` is the event id, so a retried post is filed once.
/// - `GET messages` is the conversation so far; `GET events?after=SEQ&wait=S` the same live events
///   as the WebSocket (`WidgetSocket`), by long-polling, for networks that block WebSockets.
/// - `POST images` files an image the visitor sends, `GET messages/{id}/image` serves an image of
///   the visitor's own conversation (`WidgetImages`); `POST transcript` mails them the conversation
///   (`WidgetTranscript`).
/// New chats and messages are rate-limited per visitor and per address (`WidgetThrottle`).
struct WidgetController: Sendable {
    let inbox: Inbox
    /// The process's reading of the event log for visitors' feeds (the long-poll's).
    let visitorLog: VisitorLog
    let registry: ChannelRegistry
    let throttle: WidgetThrottle
    let metrics: BridgeMetrics
    /// Where a visitor's image is kept until it is copied into the attachment store, and where the
    /// agents' uploaded images are read from for the visitor (`WidgetImages`).
    let uploads: UploadStore
    /// The SMTP relay transcripts go out by (`WidgetTranscript`); nil when bridge.yaml has none.
    var mailer: SMTPMailer?
    var publicBaseURL: String?
    /// Mails the offline form's address a confirmation code (nil: never).
    var confirmations: AddressConfirmations?
    /// Header a reverse proxy sets to the client's address (as for sign-in limits); nil: the peer.
    var addressHeader: String?
    var clock: @Sendable () -> Date = { Date() }
    /// The longest a long-poll waits for an event.
    static let maxWait = 25
    /// The largest post (a message of `WebchatAdapter.maxTextLength` characters fits with room).
    static let maxBodyBytes = 32 << 10

    func addRoutes(to router: Router<BridgeRequestContext>) {
        let widget = router.group("/widget/v1/:accountId")
        widget.post("session") { request, context in try await session(request, context) }
        widget.post("messages") { request, context in try await post(request, context) }
        widget.get("messages") { request, context in try await conversation(request, context) }
        widget.get("events") { request, context in try await events(request, context) }
        widget.post("typing") { request, context in try await typing(request, context) }
        widget.post("rating") { request, context in try await rate(request, context) }
        widget.post("offline") { request, context in try await offline(request, context) }
        widget.post("images") { request, context in try await postImage(request, context) }
        widget.get("messages/:messageId/image") { request, context in try await image(request, context) }
        widget.post("transcript") { request, context in try await transcript(request, context) }
        widget.post("confirm") { request, context in try await confirm(request, context) }
        widget.get("live") { _, _ in
            APIError(status: .upgradeRequired, code: "upgrade_required", message: "connect with a WebSocket client (Upgrade: websocket)").response
        }
    }

    /// The webchat account named in the path, brought up to date like a webhook's.
    func adapter(_ context: BridgeRequestContext) async throws -> WebchatAdapter {
        let id = context.parameters.get("accountId") ?? ""
        let key = ChannelAccountRef(kind: .webchat, id: id).key
        do {
            try await registry.refreshForWebhook(key: key)
        } catch {
            context.logger.warning("channel accounts not refreshed", metadata: ["error": "\(error)"])
        }
        if registry.isDisabled(key) { throw APIError(status: .forbidden, code: "account_disabled", message: "this chat is switched off") }
        guard let adapter = registry.adapter(kind: .webchat, id: id) as? WebchatAdapter else {
            throw APIError(status: .notFound, code: "unknown_account", message: "no website chat \"\(id)\" is configured")
        }
        return adapter
    }

    struct SessionBody: Decodable {
        /// The token the widget kept, to resume.
        var token: String?
        /// The origin of the page that embeds the widget.
        var page: String
    }

    struct SessionAnswer: Encodable {
        var token: String
        var visitorId: String
        /// True when the token given was not valid (or none was) and this is a new visitor.
        var new: Bool
        /// Where the visitor's feed starts: the event log's position now.
        var seq: Int64
        var settings: WidgetSettings
    }

    func session(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let adapter = try await adapter(context)
        if let origin = request.headers[.origin], origin != "null",
            !SameOrigin.allows(origin: origin, authority: request.head.authority, publicBaseURL: publicBaseURL)
        {
            throw APIError(status: .forbidden, code: "origin_not_allowed", message: "sessions are started by the widget page the bridge serves")
        }
        let body = try await request.decode(SessionBody.self, maxBytes: 4096)
        guard let page = SameOrigin.normalized(body.page), adapter.configuration.allows(origin: page) else {
            metrics.webhook(channel: "webchat", outcome: "origin_refused")
            throw APIError(status: .forbidden, code: "origin_not_allowed", message: "this chat may not be embedded in \(body.page)")
        }
        let secret = adapter.configuration.visitorSecret
        var visitorId = body.token.flatMap { VisitorToken.visitorId(in: $0, secret: secret) }
        let new = visitorId == nil
        if new {
            // Only new chats count: a resume costs nothing the visitor did not already have.
            do {
                try throttle.session(address: clientAddress(request, context))
            } catch {
                throw Self.limited(error)
            }
            visitorId = VisitorToken.newVisitorId()
        }
        let id = visitorId ?? ""
        return JSONResponse.make(SessionAnswer(
            token: VisitorToken.make(visitorId: id, secret: secret), visitorId: id, new: new, seq: try await inbox.eventLogHead(),
            settings: try await WidgetSettings.of(adapter.configuration, inbox: inbox, now: clock(), transcript: mailer != nil)))
    }

    func post(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let adapter = try await adapter(context)
        let body = Data(buffer: try await request.readBody(upTo: Self.maxBodyBytes))
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let incoming = WebhookRequest(method: "POST", url: "", headers: headers, body: body, receivedAt: clock())
        let parsed: ParsedWebhook
        do {
            let visitorId = try adapter.visitorId(incoming)
            do {
                try throttle.message(visitorId: visitorId, address: clientAddress(request, context))
            } catch {
                throw Self.limited(error)
            }
            parsed = try adapter.parse(incoming)
        } catch let error as WebhookError {
            metrics.webhook(channel: "webchat", outcome: error.status == 401 ? "unauthorized" : "malformed")
            throw APIError(status: .init(code: error.status), code: error.status == 401 ? "invalid_visitor_token" : "invalid_message", message: error.message)
        }
        let result: IngestResult
        do {
            result = try await inbox.ingest(parsed.events, from: adapter.account)
            if parsed.events.contains(where: { $0.kind == .message }), let visitorId = parsed.events.first?.sender?.id {
                try? await VisitorTyping(inbox: inbox, clock: clock).stopped(account: adapter.account.key, visitorId: visitorId)
            }
        } catch {
            context.logger.error("widget message not stored", metadata: ["error": "\(error)"])
            throw APIError(status: .serviceUnavailable, code: "not_stored", message: "the message was not stored; send it again")
        }
        metrics.webhook(channel: "webchat", outcome: "accepted")
        metrics.events(channel: "webchat", outcome: "stored", count: result.stored)
        metrics.events(channel: "webchat", outcome: "duplicate", count: result.duplicates)
        return JSONResponse.make(["accepted": true, "duplicate": result.duplicates > 0], status: .accepted)
    }

    struct Conversation: Encodable {
        var messages: [VisitorMessage]
        /// The event log's position when it was read: follow the feed from here.
        var seq: Int64
    }

    func conversation(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let (adapter, visitorId) = try await limitedVisitor(request, context)
        let after = try Self.position(request, "after")
        let seq = try await inbox.eventLogHead()
        let messages = try await inbox.visitorMessages(account: adapter.account.key, visitorId: visitorId, after: after, limit: 500)
        return JSONResponse.make(Conversation(messages: messages.map(VisitorMessage.init), seq: seq))
    }

    func events(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let (adapter, visitorId) = try await limitedVisitor(request, context)
        guard throttle.open(visitorId: visitorId) else {
            var headers = HTTPFields()
            headers[.retryAfter] = "5"
            throw APIError(
                status: .tooManyRequests, code: "too_many_open", message: "this visitor has \(throttle.limits.openPerVisitor) polls or sockets open already",
                headers: headers)
        }
        defer { throttle.close(visitorId: visitorId) }
        let after = try Self.position(request, "after")
        let waitText = request.uri.queryParameters.get("wait") ?? "0"
        guard let wait = Int(waitText), (0...Self.maxWait).contains(wait) else {
            throw APIError.badRequest("invalid_wait", "wait is a whole number of seconds from 0 to \(Self.maxWait)")
        }
        // The agents' typing as the widget last knew it: a change ends the wait too.
        let known: Bool
        switch request.uri.queryParameters.get("typing") {
        case nil, "false": known = false
        case "true": known = true
        default: throw APIError.badRequest("invalid_typing", "typing is true or false")
        }
        let typing = VisitorTyping(inbox: inbox, clock: clock)
        let feed = VisitorFeed(log: visitorLog, visitor: .init(account: adapter.account.key, id: visitorId))
        let waker = feed.follow()
        let deadline = ContinuousClock.now + .seconds(wait)
        var page = try await feed.read(after: after)
        var state = try await feed.chatState(waker, typing: typing) ?? VisitorChatState()
        while page.events.isEmpty, !page.resync, state.othersTyping == known, ContinuousClock.now < deadline, !Task.isCancelled {
            await waker.wait(deadline: deadline)
            page = try await feed.read(after: page.next)
            state = try await feed.chatState(waker, typing: typing) ?? state
        }
        (page.typing, page.queue) = (state.othersTyping, state.queue)
        return JSONResponse.make(page)
    }

    /// The visitor is typing (the widget repeats it every few seconds while they type): the inbox
    /// shows it on their chat until `VisitorTyping.lapse` after the last report. 204.
    func typing(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let (adapter, visitorId) = try await limitedVisitor(request, context)
        _ = try await request.readBody(upTo: 1024)
        _ = try await VisitorTyping(inbox: inbox, clock: clock).typing(account: adapter.account.key, visitorId: visitorId)
        return Response(status: .noContent)
    }

    struct RatingBody: Decodable {
        var rating: Rating
    }

    /// The visitor rates the chat they are in: the ticket's satisfaction, as a survey answer is.
    /// 422 `nothing_to_rate` before the visitor wrote anything.
    func rate(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let (adapter, visitorId) = try await limitedVisitor(request, context)
        let body = try await request.decode(RatingBody.self, maxBytes: 1024)
        guard try await inbox.rateVisitorTicket(account: adapter.account.key, visitorId: visitorId, rating: body.rating) != nil else {
            throw APIError.unprocessable("nothing_to_rate", "there is no chat to rate yet")
        }
        return JSONResponse.make(["rating": body.rating.rawValue])
    }

    struct OfflineBody: Decodable {
        var id: String
        var name: String
        var email: String
        var text: String
    }

    /// A message left while nobody is online: name, e-mail and text. The text is filed like any of
    /// the visitor's messages (a ticket, rules, alerts; the agents answer it when they are back),
    /// then the visitor's contact gets the name, and the address a note and a confirmation code
    /// (`AddressConfirmations`, `Inbox.identifyVisitor`). Limited like messages. 202, with
    /// `confirmationSent`.
    func offline(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let (adapter, visitorId) = try await visitor(request, context)
        let body = try await request.decode(OfflineBody.self, maxBytes: Self.maxBodyBytes)
        let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else { throw APIError.badRequest("invalid_name", "name is 1 to 100 characters, not all blank") }
        guard Self.isPlainAddress(body.email.trimmingCharacters(in: .whitespaces)) else {
            throw APIError.badRequest("invalid_email", "\(body.email) is not an e-mail address")
        }
        do {
            try throttle.message(visitorId: visitorId, address: clientAddress(request, context))
        } catch {
            throw Self.limited(error)
        }
        let post = try JSONSerialization.data(withJSONObject: ["id": body.id, "text": body.text, "name": name])
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let parsed: ParsedWebhook
        do {
            parsed = try adapter.parse(WebhookRequest(method: "POST", headers: headers, body: post, receivedAt: clock()))
        } catch {
            throw APIError(status: .badRequest, code: "invalid_message", message: error.message)
        }
        do {
            _ = try await inbox.ingest(parsed.events, from: adapter.account)
        } catch {
            context.logger.error("widget offline message not stored", metadata: ["error": "\(error)"])
            throw APIError(status: .serviceUnavailable, code: "not_stored", message: "the message was not stored; send it again")
        }
        let address = body.email.trimmingCharacters(in: .whitespaces)
        let confirming = await confirmations?.send(adapter, visitorId: visitorId, address: address, client: clientAddress(request, context)) ?? false
        _ = try await inbox.identifyVisitor(account: adapter.account.key, visitorId: visitorId, name: name, email: address, confirming: confirming)
        return JSONResponse.make(["accepted": true, "confirmationSent": confirming], status: .accepted)
    }

    /// `visitor`, with a token taken from the visitor's and the address's request buckets (429).
    func limitedVisitor(_ request: Request, _ context: BridgeRequestContext) async throws -> (WebchatAdapter, String) {
        let (adapter, visitorId) = try await visitor(request, context)
        do {
            try throttle.request(visitorId: visitorId, address: clientAddress(request, context))
        } catch {
            throw Self.limited(error)
        }
        return (adapter, visitorId)
    }

    /// The account and the visitor the request's token names (401 without a valid one).
    func visitor(_ request: Request, _ context: BridgeRequestContext) async throws -> (WebchatAdapter, String) {
        let adapter = try await adapter(context)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        do {
            return (adapter, try adapter.visitorId(WebhookRequest(method: "GET", headers: headers)))
        } catch {
            throw APIError(status: .unauthorized, code: "invalid_visitor_token", message: error.message)
        }
    }

    private static func position(_ request: Request, _ name: String) throws -> Int64 {
        guard let text = request.uri.queryParameters.get(name) else { return 0 }
        guard let value = Int64(text), value >= 0 else { throw APIError.badRequest("invalid_\(name)", "\(name) is a whole number, 0 or more") }
        return value
    }

    static func limited(_ error: WidgetThrottle.Limited) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(error.retryAfter)
        return APIError(
            status: .tooManyRequests, code: "rate_limited", message: "too many messages or chats at once; try again in \(error.retryAfter) s", headers: headers)
    }

    /// The client's address: the last entry of the configured proxy header, else the peer's IP.
    /// The client's address as the limits key it (`WidgetThrottle.addressKey`: IPv6 by /64).
    func clientAddress(_ request: Request, _ context: BridgeRequestContext) -> String? {
        if let addressHeader, let field = HTTPField.Name(addressHeader), let value = request.headers[field],
            let last = value.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        {
            return WidgetThrottle.addressKey(last)
        }
        return context.remoteAddress?.ipAddress.map(WidgetThrottle.addressKey)
    }
}

/// What the widget shows before the first message: who the business is, its colour and greeting,
/// and whether anyone can answer now (an agent online, inside the business hours) or the widget
/// offers the offline form and shows the hours instead.
struct WidgetSettings: Encodable, Sendable {
    var name: String
    var colour: String
    var greeting: [String: String]
    var online: Bool
    var hours: Hours?
    /// Whether the visitor can ask for the conversation by e-mail (an SMTP relay is configured):
    /// the widget shows the button only then.
    var transcript: Bool

    struct Hours: Encodable, Sendable {
        var timeZone: String
        var weekly: [String: [[String]]]
        var holidays: [String]
    }

    static func of(_ configuration: WebchatConfiguration, inbox: Inbox, now: Date, transcript: Bool) async throws -> WidgetSettings {
        let hours = try await inbox.businessHours(department: nil)
        let someone = try await inbox.agents().contains { $0.active && $0.availability == .online }
        return WidgetSettings(
            name: configuration.name, colour: configuration.colour, greeting: configuration.greeting,
            online: someone && (hours?.isOpen(at: now) ?? true),
            hours: hours.map { Hours(timeZone: $0.timeZone, weekly: $0.weekly, holidays: $0.holidays) }, transcript: transcript)
    }
}
