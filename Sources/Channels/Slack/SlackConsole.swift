import ChannelKit
import Foundation

/// Slack's side of the agent console: verifies and reads Events API and interactivity calls, and
/// posts to the channel and threads through the Web API.
public struct SlackConsole: Sendable {
    public let configuration: SlackConfiguration
    /// Requests older (or newer) than this are replays and refused.
    public static let timestampTolerance: TimeInterval = 300

    public init(configuration: SlackConfiguration) {
        self.configuration = configuration
    }

    public var accountKey: String { "slack/\(configuration.id)" }

    /// `X-Slack-Signature: v0=hex(HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + raw body))`,
    /// with the timestamp within five minutes of `now`.
    public func verify(_ request: WebhookRequest, now: Date = Date()) throws(WebhookError) {
        guard let signature = request.header("x-slack-signature"), signature.hasPrefix("v0="),
            let timestampText = request.header("x-slack-request-timestamp"), let timestamp = Double(timestampText)
        else { throw .unauthorized("missing X-Slack-Signature or X-Slack-Request-Timestamp") }
        guard abs(now.timeIntervalSince1970 - timestamp) <= Self.timestampTolerance else {
            throw .unauthorized("X-Slack-Request-Timestamp is more than 5 minutes from now")
        }
        let signed = Data("v0:\(timestampText):".utf8) + request.body
        guard HMACSHA256Key(secret: configuration.signingSecret).isValid(hexSignature: String(signature.dropFirst(3)), body: signed) else {
            throw .unauthorized("X-Slack-Signature does not match")
        }
    }

    /// Reads an Events API body (JSON) or an interactivity body (form with `payload`).
    public func parse(_ request: WebhookRequest) throws(WebhookError) -> SlackInbound {
        guard !request.body.isEmpty else { throw .malformed("empty body") }
        if request.header("content-type")?.hasPrefix("application/x-www-form-urlencoded") == true || request.body.first != UInt8(ascii: "{") {
            guard let form = FormEncoding.decode(request.body), let payload = form.first(where: { $0.0 == "payload" })?.1 else {
                throw .malformed("interactivity body without payload")
            }
            return try action(from: Data(payload.utf8))
        }
        let envelope = try PlatformAPI.decodeWebhook(SlackEnvelope.self, from: request.body)
        switch envelope.type {
        case "url_verification":
            guard let challenge = envelope.challenge else { throw .malformed("missing field challenge") }
            return .urlVerification(challenge: challenge)
        case "event_callback":
            guard let event = envelope.event, let eventId = envelope.event_id else { throw .malformed("missing field event") }
            guard event.type == "message" else { return .ignored(reason: "event \(event.type)") }
            if event.bot_id != nil || event.subtype == "bot_message" { return .ignored(reason: "a bot's message") }
            if let subtype = event.subtype { return .ignored(reason: "message \(subtype)") }
            guard let thread = event.thread_ts, let ts = event.ts, thread != ts else { return .ignored(reason: "not a thread reply") }
            guard let channel = event.channel, let user = event.user else { throw .malformed("message without channel or user") }
            return .threadReply(SlackThreadReply(eventId: eventId, channel: channel, threadTs: thread, user: user, text: event.text ?? ""))
        default:
            return .ignored(reason: "callback \(envelope.type)")
        }
    }

    private func action(from payload: Data) throws(WebhookError) -> SlackInbound {
        let p = try PlatformAPI.decodeWebhook(SlackActionPayload.self, from: payload)
        guard p.type == "block_actions", let action = p.actions?.first else { return .ignored(reason: "interaction \(p.type)") }
        guard let kind = SlackAction.Kind(rawValue: action.action_id), let ticketId = action.value.flatMap(Int64.init) else {
            return .ignored(reason: "action \(action.action_id)")
        }
        guard let channel = p.channel?.id, let ts = p.container?.thread_ts ?? p.message?.thread_ts ?? p.container?.message_ts ?? p.message?.ts else {
            throw .malformed("action without channel or message")
        }
        return .action(SlackAction(
            eventId: p.trigger_id ?? "\(p.user.id):\(ts):\(kind.rawValue)", kind: kind, ticketId: ticketId, channel: channel, threadTs: ts, user: p.user.id))
    }

    // MARK: Web API

    /// Posts a ticket's parent message: who, on which channel, the first text, and the buttons.
    public func postTicket(ticketId: Int64, customer: String, channel: String, text: String, transport: any HTTPTransport) async throws -> String {
        let header = "*\(customer)* via \(channel.capitalized) — ticket #\(ticketId)"
        let blocks: [SlackBlock] = [
            .section(header + "\n" + text),
            .actions([
                .init(text: "Claim", action_id: "claim", value: String(ticketId), style: "primary"),
                .init(text: "Resolve", action_id: "resolve", value: String(ticketId), style: nil),
                .init(text: "Spam", action_id: "spam", value: String(ticketId), style: "danger"),
            ]),
        ]
        let body = SlackPostMessage(
            channel: configuration.channel, text: "\(header): \(text)", thread_ts: nil, blocks: blocks, unfurl_links: false,
            metadata: .init(event_type: "conversation_opened", event_payload: ["ticket_id": String(ticketId)]))
        return try await post(body, transport: transport)
    }

    /// Posts a line into a ticket's thread.
    @discardableResult
    public func postInThread(_ threadTs: String, text: String, transport: any HTTPTransport) async throws -> String {
        try await post(SlackPostMessage(channel: configuration.channel, text: text, thread_ts: threadTs, blocks: nil, unfurl_links: false, metadata: nil), transport: transport)
    }

    /// The agent name for a Slack user: the configured mapping, else their profile's e-mail or name.
    public func agentName(for user: String, transport: any HTTPTransport) async -> String {
        if let name = configuration.agents[user] { return name }
        guard let response = try? await transport.perform(PlatformAPI.get("\(configuration.apiBaseURL)/users.info?user=\(user)", bearer: configuration.botToken)),
            let info = PlatformAPI.decodeAnswer(SlackUserInfo.self, from: response.body), info.ok
        else { return "Slack user \(user)" }
        return info.user?.profile?.email ?? info.user?.real_name ?? "Slack user \(user)"
    }

    private func post(_ message: SlackPostMessage, transport: any HTTPTransport) async throws -> String {
        let request = try PlatformAPI.jsonPost("\(configuration.apiBaseURL)/chat.postMessage", bearer: configuration.botToken, body: message)
        let response = try await transport.perform(request)
        if response.status == 429 { throw SendError.retryable("slack_ratelimited", "Slack rate limit", after: response.retryAfter) }
        guard (200..<300).contains(response.status) else {
            throw PlatformAPI.error(forStatus: response.status, reason: "HTTP \(response.status)", retryAfter: response.retryAfter)
        }
        let answer = PlatformAPI.decodeAnswer(SlackAnswer.self, from: response.body)
        guard let answer, answer.ok, let ts = answer.ts else { throw Self.error(answer?.error ?? "unreadable answer") }
        return ts
    }

    /// Slack's `{"ok":false,"error":…}` codes (docs/platforms.md §5).
    static func error(_ code: String) -> SendError {
        switch code {
        case "internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited": .retryable("slack_\(code)", code)
        case "invalid_auth", "token_revoked", "account_inactive", "not_authed": .permanent("slack_\(code)", "the Slack bot token is not valid: \(code)")
        default: .permanent("slack_\(code)", code)
        }
    }
}

struct SlackAnswer: Decodable {
    var ok: Bool
    var ts: String?
    var error: String?
}

struct SlackUserInfo: Decodable {
    struct User: Decodable {
        struct Profile: Decodable { var email: String? }
        var real_name: String?
        var profile: Profile?
    }
    var ok: Bool
    var user: User?
}

/// `chat.postMessage` body.
struct SlackPostMessage: Encodable {
    struct Metadata: Encodable {
        var event_type: String
        var event_payload: [String: String]
    }
    var channel: String
    var text: String
    var thread_ts: String?
    var blocks: [SlackBlock]?
    var unfurl_links: Bool
    var metadata: Metadata?
}

/// The two Block Kit blocks the console uses.
enum SlackBlock: Encodable {
    struct Button {
        var text: String
        var action_id: String
        var value: String
        var style: String?
    }

    case section(String)
    case actions([Button])

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .section(let text):
            try c.encode("section", forKey: .type)
            var t = c.nestedContainer(keyedBy: Key.self, forKey: .text)
            try t.encode("mrkdwn", forKey: .type)
            try t.encode(text, forKey: .text)
        case .actions(let buttons):
            try c.encode("actions", forKey: .type)
            var list = c.nestedUnkeyedContainer(forKey: .elements)
            for button in buttons {
                var b = list.nestedContainer(keyedBy: Key.self)
                try b.encode("button", forKey: .type)
                try b.encode(button.action_id, forKey: .action_id)
                try b.encode(button.value, forKey: .value)
                try b.encodeIfPresent(button.style, forKey: .style)
                var t = b.nestedContainer(keyedBy: Key.self, forKey: .text)
                try t.encode("plain_text", forKey: .type)
                try t.encode(button.text, forKey: .text)
            }
        }
    }

    enum Key: String, CodingKey { case type, text, elements, action_id, value, style }
}
