import ChannelKit
import Foundation
import Synchronization

/// Default behaviour of the LINE and WhatsApp APIs, enough for the bridge's whole loop.
public enum StandInPlatforms {
    /// Bytes served as downloadable media (a tiny PNG header plus padding).
    public static let sampleMedia = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + Data(repeating: 0x2A, count: 1024)

    /// LINE: reply/push accept, profiles answer a name, content answers `sampleMedia`.
    public static func line(displayNames: [String: String] = [:]) -> PlatformStandIn.Responder {
        let accepted = AcceptedKeys()
        return { request, _ in
            let path = request.path
            // Push, multicast and broadcast honour X-Line-Retry-Key: a key seen before is answered 409.
            if path.hasPrefix("/v2/bot/message/push") || path.hasPrefix("/v2/bot/message/multicast") || path.hasPrefix("/v2/bot/message/broadcast"),
                let key = request.headers["x-line-retry-key"], let first = accepted.accept(key)
            {
                return .json(#"{"message":"The retry key is already accepted"}"#, status: 409, headers: ["x-line-accepted-request-id": first])
            }
            if path.hasPrefix("/v2/bot/message/multicast") || path.hasPrefix("/v2/bot/message/broadcast") {
                return .json("{}", headers: ["x-line-request-id": "req-\(sequenceId())"])
            }
            if path.hasPrefix("/v2/bot/message/reply") || path.hasPrefix("/v2/bot/message/push") {
                return .json(#"{"sentMessages":[{"id":"\#(sequenceId())","quoteToken":"q"}]}"#)
            }
            if path.hasPrefix("/v2/bot/profile/") {
                let userId = String(path.dropFirst("/v2/bot/profile/".count))
                let name = displayNames[userId] ?? "LINE user \(userId.suffix(4))"
                return .json(#"{"displayName":"\#(name)","userId":"\#(userId)","language":"en"}"#)
            }
            if path.hasSuffix("/content/transcoding") {
                return .json(#"{"status":"succeeded"}"#)
            }
            if path.hasSuffix("/content") {
                return .init(status: 200, headers: ["content-type": "image/png"], body: sampleMedia)
            }
            return .json(#"{"message":"Not found"}"#, status: 404)
        }
    }

    /// WhatsApp Cloud API: messages accept with a `wamid`, media lookups point at a download on the
    /// stand-in, `/{WABA-ID}/message_templates` lists `whatsappTemplates` (one page).
    public static func whatsapp() -> PlatformStandIn.Responder {
        { request, baseURL in
            let path = request.path
            if path.contains("/message_templates") {
                return .json(#"{"data":\#(whatsappTemplates),"paging":{"cursors":{"before":"MAZDZD","after":"MjQZD"}}}"#)
            }
            if path.hasSuffix("/messages") {
                let to = (request.json as? [String: Any])?["to"] as? String ?? ""
                return .json(#"{"messaging_product":"whatsapp","contacts":[{"input":"\#(to)","wa_id":"\#(to)"}],"messages":[{"id":"wamid.\#(sequenceId())"}]}"#)
            }
            if path.hasPrefix("/media-download/") {
                return .init(status: 200, headers: ["content-type": "image/jpeg"], body: sampleMedia)
            }
            // GET /{version}/{media-id}
            let id = path.split(separator: "/").last.map(String.init) ?? ""
            let sha = Signatures.sha256Hex(sampleMedia)
            return .json(#"{"url":"\#(baseURL)/media-download/\#(id)","mime_type":"image/jpeg","sha256":"\#(sha)","file_size":\#(sampleMedia.count),"id":"\#(id)","messaging_product":"whatsapp"}"#)
        }
    }

    /// Approved templates as the Graph API lists them: two the bridge can send (body parameters
    /// only), one with an image header and one with named parameters (which it cannot).
    public static let whatsappTemplates = #"""
        [{"name":"order_shipped","language":"en_US","status":"APPROVED","category":"UTILITY","id":"1001","components":[{"type":"HEADER","format":"TEXT","text":"Good news"},{"type":"BODY","text":"Your order {{1}} has shipped and arrives on {{2}}.","example":{"body_text":[["#1234","Monday"]]}},{"type":"FOOTER","text":"Reply STOP to opt out"}]},
         {"name":"hello_world","language":"en_US","status":"APPROVED","category":"UTILITY","id":"1002","components":[{"type":"BODY","text":"Hello! Thanks for writing to us."}]},
         {"name":"spring_sale","language":"en_US","status":"APPROVED","category":"MARKETING","id":"1003","components":[{"type":"HEADER","format":"IMAGE","example":{"header_handle":["4::aW"]}},{"type":"BODY","text":"Spring sale: {{1}} off."}]},
         {"name":"named_greeting","language":"en_US","status":"APPROVED","category":"UTILITY","parameter_format":"NAMED","id":"1004","components":[{"type":"BODY","text":"Hi {{first_name}}!"}]}]
        """#

    /// Messenger Platform (Messenger and Instagram): the Send API accepts with a `mid`, profiles
    /// answer a name, `/cdn/...` serves `sampleMedia` as a CDN would.
    public static func messenger(displayNames: [String: String] = [:]) -> PlatformStandIn.Responder {
        { request, _ in
            let path = request.path
            if path.hasSuffix("/messages") {
                let recipient = ((request.json as? [String: Any])?["recipient"] as? [String: Any])?["id"] as? String ?? ""
                return .json(#"{"recipient_id":"\#(recipient)","message_id":"m_\#(sequenceId())"}"#)
            }
            if path.hasPrefix("/cdn/") {
                return .init(status: 200, headers: ["content-type": "image/jpeg"], body: sampleMedia)
            }
            // GET /{version}/{user-id}?fields=...
            let id = path.split(separator: "/").last.map { String($0.prefix { $0 != "?" }) } ?? ""
            let name = displayNames[id] ?? "Customer \(id.suffix(4))"
            let parts = name.split(separator: " ", maxSplits: 1).map(String.init)
            return .json(#"{"first_name":"\#(parts.first ?? name)","last_name":"\#(parts.count > 1 ? parts[1] : "")","name":"\#(name)","id":"\#(id)"}"#)
        }
    }

    /// Twilio: `Messages.json` accepts with an `SM` sid, `/media/...` serves `sampleMedia`.
    public static func sms() -> PlatformStandIn.Responder {
        { request, _ in
            if request.path.hasSuffix("/Messages.json") {
                return .json(#"{"sid":"SM\#(sequenceId())","status":"queued","num_segments":"1"}"#, status: 201)
            }
            if request.path.hasPrefix("/media/") {
                return .init(status: 200, headers: ["content-type": "image/jpeg"], body: sampleMedia)
            }
            return .json(#"{"code":20404,"message":"The requested resource was not found","status":404}"#, status: 404)
        }
    }

    /// WeChat: `cgi-bin/token` hands out numbered tokens, the customer-service API and media
    /// upload accept, `media/get` serves `sampleMedia`; `/img/...` serves an image to upload.
    public static func wechat() -> PlatformStandIn.Responder {
        let accepted = AcceptedKeys()
        return { request, _ in
            let path = request.path
            if path.hasPrefix("/cgi-bin/message/mass/send") {
                let body = request.json as? [String: Any] ?? [:]
                guard (body["touser"] as? [String])?.count ?? 0 >= 2 else {
                    return .json(#"{"errcode":40130,"errmsg":"invalid openid list size, at least two openid"}"#)
                }
                if let key = body["clientmsgid"] as? String, let first = accepted.accept(key) {
                    return .json(#"{"errcode":45065,"errmsg":"clientmsgid exist","msg_id":\#(first)}"#)
                }
                return .json(#"{"errcode":0,"errmsg":"send job submission success","msg_id":\#(accepted.last),"msg_data_id":2247483\#(accepted.last)}"#)
            }
            if path.hasPrefix("/cgi-bin/token") {
                return .json(#"{"access_token":"ACCESS_TOKEN_\#(sequenceId())","expires_in":7200}"#)
            }
            if path.hasPrefix("/cgi-bin/message/custom/send") { return .json(#"{"errcode":0,"errmsg":"ok"}"#) }
            if path.hasPrefix("/cgi-bin/media/upload") {
                return .json(#"{"type":"image","media_id":"MEDIA_\#(sequenceId())","created_at":1700000000}"#)
            }
            if path.hasPrefix("/cgi-bin/media/get") || path.hasPrefix("/img/") {
                return .init(status: 200, headers: ["content-type": "image/jpeg"], body: sampleMedia)
            }
            return .json(#"{"errcode":40066,"errmsg":"invalid url"}"#)
        }
    }

    /// Slack Web API: `chat.postMessage` answers a fresh `ts`, `users.info` a profile.
    public static func slack(users: [String: (name: String, email: String)] = [:]) -> PlatformStandIn.Responder {
        { request, _ in
            if request.path.hasSuffix("/chat.postMessage") {
                let channel = (request.json as? [String: Any])?["channel"] as? String ?? ""
                return .json(#"{"ok":true,"channel":"\#(channel)","ts":"1700000000.\#(sequenceId().suffix(6))"}"#)
            }
            if request.path.contains("/users.info") {
                let user = request.path.components(separatedBy: "user=").last ?? ""
                guard let known = users[user] else { return .json(#"{"ok":false,"error":"user_not_found"}"#) }
                return .json(#"{"ok":true,"user":{"id":"\#(user)","real_name":"\#(known.name)","profile":{"email":"\#(known.email)"}}}"#)
            }
            return .json(#"{"ok":false,"error":"unknown_method"}"#)
        }
    }

    private static let counter = Counter()

    private static func sequenceId() -> String { String(counter.next()) }
}

private final class Counter: Sendable {
    private let value = Atomic<Int>(468_789_577_898_262_000)
    func next() -> Int { value.add(1, ordering: .relaxed).newValue }
}

/// Idempotency keys a stand-in has accepted (LINE's retry key, WeChat's clientmsgid): the first
/// time a key is seen it is recorded (nil); after that, the id it was accepted under.
final class AcceptedKeys: Sendable {
    private let keys = Mutex<(ids: [String: String], count: Int)>(([:], 0))

    func accept(_ key: String) -> String? {
        keys.withLock { state in
            if let first = state.ids[key] { return first }
            state.count += 1
            state.ids[key] = String(1_000_000 + state.count)
            return nil
        }
    }

    /// The id given to the most recently accepted key.
    var last: String { keys.withLock { String(1_000_000 + $0.count) } }
}
