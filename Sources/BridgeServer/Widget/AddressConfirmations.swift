import ChannelKit
import Email
import Foundation
import Hummingbird
import Logging
import Synchronization
import UniversalInbox
import WebchatChannel

/// Confirming an address a website visitor typed (the offline form): the bridge mails it a link
/// (`AddressConfirmation`, 24 hours), and only whoever reads that mail can make the visitor the
/// customer with that address (`Inbox.confirmVisitorAddress`: the visitor joins the contact that
/// has it, so their chats and e-mails are one customer, or their contact gets it).
/// - `GET /widget/v1/{accountId}/confirm/{token}` shows a page whose button posts back: a GET
///   changes nothing, since mail scanners open links.
/// - `POST` the same address confirms (idempotent) and shows that it did; a token that does not
///   hold (tampered, expired, another account's) is 404 with the page saying so.
/// Without the SMTP relay or `server.publicBaseURL` nothing is mailed and the address stays a note.
/// An address gets one confirmation mail an hour from this process, whoever asks: the form is
/// public, and must not become a way to mail strangers.
struct AddressConfirmations: Sendable {
    let inbox: Inbox
    let registry: ChannelRegistry
    let mailer: SMTPMailer?
    let publicBaseURL: String?
    let assets: WebAssets
    let logger: Logger
    var clock: @Sendable () -> Date = { Date() }
    /// When each address was last mailed (pruned as it grows), shared by the copies of this value.
    private let lastMailed = LastMailed()
    static let interval: TimeInterval = 3600

    init(
        inbox: Inbox, registry: ChannelRegistry, mailer: SMTPMailer?, publicBaseURL: String?, assets: WebAssets, logger: Logger,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.inbox = inbox
        self.registry = registry
        self.mailer = mailer
        self.publicBaseURL = publicBaseURL
        self.assets = assets
        self.logger = logger
        self.clock = clock
    }

    func addRoutes(to router: Router<BridgeRequestContext>) {
        router.get("/widget/v1/:accountId/confirm/:token") { _, context in
            await guarded {
                guard try await opened(context) != nil else { return CardPage.response(assets, "widget/confirm/invalid.html", status: .notFound) }
                return CardPage.response(assets, "widget/confirm/page.html")
            }
        }
        router.post("/widget/v1/:accountId/confirm/:token") { request, context in
            await guarded {
                _ = try await request.readBody(upTo: 4096)
                guard let (adapter, visitorId, address) = try await opened(context) else {
                    return CardPage.response(assets, "widget/confirm/invalid.html", status: .notFound)
                }
                let contact = try await inbox.confirmVisitorAddress(account: adapter.account.key, visitorId: visitorId, email: address)
                logger.info("widget address confirmed", metadata: ["channel.account": "\(adapter.account.key)", "contact": "\(contact.map(String.init) ?? "none")"])
                return CardPage.response(assets, "widget/confirm/done.html")
            }
        }
    }

    /// Mails `address` the link that confirms it is the visitor's. False when it did not go (no
    /// relay or public address, mailed within the hour, or the relay failed: logged).
    func send(_ adapter: WebchatAdapter, visitorId: String, address: String) async -> Bool {
        guard let mailer, let publicBaseURL else { return false }
        let key = Inbox.optOutKey(address)
        guard lastMailed.take(key, now: clock(), interval: Self.interval) else { return false }
        let token = AddressConfirmation.make(
            visitorId: visitorId, address: address, expires: clock().addingTimeInterval(AddressConfirmation.lifetime),
            secret: adapter.configuration.visitorSecret)
        let link = "\(publicBaseURL)/widget/v1/\(adapter.configuration.id)/confirm/\(token)"
        let name = adapter.configuration.name
        let text = """
            You gave this address in the chat on the website of \(name). To confirm it is yours, open this link within 24 hours:
            \(link)

            \(name) のウェブサイトのチャットでこのアドレスをご入力いただきました。ご本人のアドレスであれば、24時間以内にこのリンクを開いてください。

            If it was not you, ignore this e-mail. / お心当たりがない場合は、このメールを破棄してください。
            """
        do {
            try await mailer.send(EmailMessage(
                from: mailer.settings.from, to: address, subject: "\(name): confirm your e-mail address / メールアドレスの確認", text: text,
                id: "confirm-" + UUID().uuidString))
            return true
        } catch {
            lastMailed.forget(key)
            logger.warning("widget confirmation mail not sent", metadata: ["channel.account": "\(adapter.account.key)", "error": "\(error)"])
            return false
        }
    }

    /// The account, visitor and address of the path's token, when it holds.
    private func opened(_ context: BridgeRequestContext) async throws -> (WebchatAdapter, String, String)? {
        let id = context.parameters.get("accountId") ?? ""
        try? await registry.refreshForWebhook(key: ChannelAccountRef(kind: .webchat, id: id).key)
        guard let adapter = registry.adapter(kind: .webchat, id: id) as? WebchatAdapter,
            let (visitorId, address) = AddressConfirmation.open(
                context.parameters.get("token") ?? "", secret: adapter.configuration.visitorSecret, now: clock())
        else { return nil }
        return (adapter, visitorId, address)
    }

    private func guarded(_ handler: () async throws -> Response) async -> Response {
        await CardPage.guarded(logger: logger, "widget address confirmation failed", handler)
    }
}

/// When each address was last sent a confirmation.
private final class LastMailed: Sendable {
    private let times = Mutex<[String: Date]>([:])

    /// True (and noted) when `key` was not mailed within `interval` before `now`.
    func take(_ key: String, now: Date, interval: TimeInterval) -> Bool {
        times.withLock { times in
            if times.count > 10_000 { times = times.filter { now.timeIntervalSince($0.value) < interval } }
            if let last = times[key], now.timeIntervalSince(last) < interval { return false }
            times[key] = now
            return true
        }
    }

    func forget(_ key: String) { times.withLock { _ = $0.removeValue(forKey: key) } }
}
