import ChannelKit
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import UniversalInbox

/// `POST /webhooks/{kind}/{accountId}` and its `GET` handshake. Verify on the raw bytes, then
/// parse, then commit, then answer: an acknowledged event is durable. Events the adapter could
/// not read are committed too, as unreadable (`GET /api/v1/unreadable-events`), and acknowledged.
struct PlatformWebhookController: Sendable {
    let inbox: Inbox
    let registry: ChannelRegistry
    let metrics: BridgeMetrics
    let maxBodyBytes: Int
    /// The public origin the platforms call (signed by Twilio); nil: from the Host header.
    var publicBaseURL: String?
    /// Where the nonces of signatures that do not cover the body are recorded (`ChannelAdapter.signatureUse`).
    let nonces: any NonceLedger
    /// Where arrivals and signature refusals are counted for the console.
    var activity: WebhookActivity?

    /// Kinds whose messages come in another way: the website widget's through the visitor API
    /// (`WidgetController`, with its limits per visitor and address, which this route would skip),
    /// e-mail from the mailbox (`EmailMailboxReader`).
    static let notHere: Set<ChannelKind> = [.webchat, .email]

    func addRoutes(to router: Router<BridgeRequestContext>) {
        router.post("/webhooks/:kind/:accountId") { request, context in try await receive(request, context) }
        router.get("/webhooks/:kind/:accountId") { request, context in try await handshake(request, context) }
    }

    /// The account's adapter, with the console's accounts brought up to date first (an account added
    /// in any process is in force for its next webhook; one changed or disabled within a second).
    private func adapter(_ context: BridgeRequestContext) async throws -> any ChannelAdapter {
        let kindText = context.parameters.get("kind") ?? ""
        let id = context.parameters.get("accountId") ?? ""
        guard let kind = ChannelKind(rawValue: kindText), !Self.notHere.contains(kind) else {
            metrics.webhook(channel: "unknown", outcome: "unknown_account")
            throw APIError(status: .notFound, code: "unknown_channel_kind", message: "no channel kind \"\(kindText)\"")
        }
        let key = ChannelAccountRef(kind: kind, id: id).key
        do {
            try await registry.refreshForWebhook(key: key)
        } catch {
            context.logger.warning("channel accounts not refreshed", metadata: ["error": "\(error)"])
        }
        if registry.isDisabled(key) {
            metrics.webhook(channel: kind.rawValue, outcome: "disabled")
            throw APIError(status: .forbidden, code: "account_disabled", message: "the \(kind.rawValue) account \"\(id)\" is disabled")
        }
        guard let adapter = registry.adapter(kind: kind, id: id) else {
            metrics.webhook(channel: kind.rawValue, outcome: "unknown_account")
            throw APIError(status: .notFound, code: "unknown_account", message: "no \(kind.rawValue) account \"\(id)\" is configured")
        }
        return adapter
    }

    /// The call as the adapter sees it; a query string that is not text (bad escapes, not UTF-8,
    /// NUL) is a 400 before anything is verified.
    private func webhookRequest(_ request: Request, body: Data) throws -> WebhookRequest {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        var query: [String: String] = [:]
        for (key, value) in try request.query() where query[String(key)] == nil { query[String(key)] = String(value) }
        let origin = publicBaseURL ?? "http://\(request.head.authority ?? "localhost")"
        return WebhookRequest(method: request.method.rawValue, url: origin + request.uri.description, headers: headers, query: query, body: body)
    }

    func receive(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let adapter = try await adapter(context)
        let channel = adapter.account.kind.rawValue
        let logger = context.logger
        // Given to each line as it is written, not set on the logger: most webhooks write no line,
        // and setting metadata copies the logger's (StreamLogHandler also rendered it: `LogOutput`).
        let account = Logger.MetadataValue.string(adapter.account.key)
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBodyBytes)
        } catch {
            metrics.webhook(channel: channel, outcome: "too_large")
            throw APIError(status: .contentTooLarge, code: "body_too_large", message: "webhook bodies are limited to \(maxBodyBytes) bytes")
        }
        let incoming: WebhookRequest
        do {
            incoming = try webhookRequest(request, body: Data(buffer: body))
        } catch {
            metrics.webhook(channel: channel, outcome: "malformed")
            throw error
        }
        let parsed: ParsedWebhook
        do {
            try adapter.verify(incoming)
            try await recordNonce(of: adapter, incoming)
            parsed = try adapter.parse(incoming)
        } catch {
            metrics.webhook(channel: channel, outcome: [401: "unauthorized", 503: "error"][error.status] ?? "malformed")
            if error.status == 401 { await activity?.refused(adapter.account.key) }
            logger.notice("webhook refused", metadata: ["channel.account": account, "webhook.outcome": "\(error.code)", "reason": "\(error.message)"])
            throw APIError(status: .init(code: error.status), code: error.code, message: error.message)
        }
        let result: IngestResult
        do {
            result = try await inbox.ingest(parsed.events, unreadable: parsed.unreadable, from: adapter.account)
        } catch {
            metrics.webhook(channel: channel, outcome: "error")
            logger.error("webhook not stored", metadata: ["channel.account": account, "error": "\(error)"])
            throw APIError(status: .serviceUnavailable, code: "not_stored", message: "the events were not stored; deliver them again")
        }
        // After the commit, never before it: only a verified, stored webhook counts as one that
        // arrived (a forged one never makes the console show a dead account as alive).
        await activity?.arrived(adapter.account.key)
        metrics.webhook(channel: channel, outcome: "accepted")
        metrics.events(channel: channel, outcome: "stored", count: result.stored)
        metrics.events(channel: channel, outcome: "duplicate", count: result.duplicates)
        metrics.events(channel: channel, outcome: "unreadable", count: parsed.unreadable.count)
        for event in parsed.unreadable {
            logger.warning("webhook event kept unread", metadata: ["channel.account": account, "event.reason": "\(event.reason)"])
        }
        logger.debug(
            "webhook stored", metadata: ["channel.account": account, "events.stored": "\(result.stored)", "events.duplicate": "\(result.duplicates)"])
        let ack = adapter.acknowledgement
        return JSONResponse.text(ack.body, status: .init(code: ack.status), contentType: ack.contentType)
    }

    /// Records the nonce of a signature that does not cover the body; one that signed another body
    /// (here or in another process) is refused as a replay. When the ledger cannot be reached the
    /// webhook is refused with 503, so the platform delivers it again, rather than let through.
    private func recordNonce(of adapter: any ChannelAdapter, _ incoming: WebhookRequest) async throws(WebhookError) {
        guard let use = adapter.signatureUse(incoming) else { return }
        let fresh: Bool
        do {
            fresh = try await nonces.record(use, at: incoming.receivedAt)
        } catch {
            throw WebhookError.unavailable("the signature's nonce could not be checked; deliver the webhook again")
        }
        guard fresh else { throw SignatureUse.replayed }
    }

    func handshake(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let adapter = try await adapter(context)
        do {
            let incoming = try webhookRequest(request, body: Data())
            guard let answer = try adapter.handshake(incoming) else {
                throw APIError(status: .methodNotAllowed, code: "no_handshake", message: "\(adapter.account.kind.rawValue) webhooks have no GET handshake")
            }
            // A handshake's signature is as good as a webhook's (WeChat's signs the same query): its
            // nonce is used up on the empty body, so the query cannot then sign a posted one.
            try await recordNonce(of: adapter, incoming)
            return JSONResponse.text(answer.body, status: .init(code: answer.status), contentType: answer.contentType)
        } catch let error as WebhookError {
            throw APIError(status: .init(code: error.status), code: error.code, message: error.message)
        }
    }
}
