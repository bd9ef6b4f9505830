import ChannelKit
import Email
import EmailChannel
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import UniversalInbox

/// Reads one e-mail account's mailbox by IMAP and files its new mail through `inbox.ingest`, as
/// the webhooks file theirs; in the one process of several that holds the account's run-once
/// duty, so two processes never both fetch.
///
/// Each round: search for UIDs above the cursor (`MailboxCursorStore`; a new UIDVALIDITY starts
/// from 1), then per mail, in UID order: fetch it (BODY.PEEK[], nothing marked yet), parse it,
/// ingest its events (eventId = Message-ID, so a re-fetch after a crash files nothing twice),
/// record the cursor, and only then mark it \Seen; nothing is ever deleted. Then wait: IDLE where
/// the server has it (a delivery wakes the reader at once), else the poll interval.
struct EmailMailboxReader: Service {
    let configuration: EmailConfiguration
    let inbox: Inbox
    let leaser: RunOnceLeaser
    let logger: Logger
    var clock: @Sendable () -> Date = Date.init
    /// The wait after a failed round (server down, login refused) before the next attempt.
    var retryAfter: Duration = .seconds(10)

    var account: ChannelAccountRef { ChannelAccountRef(kind: .email, id: configuration.id) }

    /// IDLE is renewed well within the 30 minutes after which servers may drop it (RFC 2177).
    static let longestIdle: Duration = .seconds(25 * 60)

    func run() async throws {
        let connection = Connection()
        let signal = WakeSignal()
        await signal.runUntilShutdown("email-reader/\(configuration.id)", leaser: leaser, interval: .zero) {
            do {
                let session = try await connection.open(configuration.imap)
                try await readNewMail(session)
                try await waitForMail(session)
            } catch {
                logger.error(
                    "reading the mailbox failed", metadata: ["channel.account": "\(account.key)", "error": "\(error)"])
                connection.drop()
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: retryAfter) }
            }
        }
        connection.drop()
    }

    /// Files every mail above the cursor, in UID order.
    func readNewMail(_ open: Connection.Open) async throws {
        let imap = configuration.imap
        let stored = try await inbox.stores.mailboxCursors.cursor(account: account.key, mailbox: imap.mailbox)
        let after = stored?.uidValidity == open.uidValidity ? stored?.lastUID ?? 0 : 0
        let session = open.session
        for uid in try await blocking({ try session.uids(after: after) }) {
            if let mail = try await blocking({ try session.fetch(uid: uid) }) {
                try await file(mail.raw, receivedAt: Self.receivedAt(mail.receivedAt, now: clock()))
            }
            try await inbox.stores.mailboxCursors.advance(account: account.key, mailbox: imap.mailbox, to: MailboxCursor(uidValidity: open.uidValidity, lastUID: uid))
            if imap.markSeen { try await blocking { try session.markSeen(uid: uid) } }
        }
    }

    /// When a mail arrived, for its place in the conversation: the mailbox's INTERNALDATE when it
    /// waited there over a minute (the reader was down, or catching up), else now, which keeps the
    /// milliseconds INTERNALDATE lacks (a customer's answer read a second after our reply stays after it).
    static func receivedAt(_ internalDate: Date?, now: Date) -> Date {
        guard let internalDate, now.timeIntervalSince(internalDate) > 60 else { return now }
        return internalDate
    }

    /// One mail's events into the inbox (an auto-reply has none: it is recorded nowhere).
    func file(_ raw: Data, receivedAt: Date) async throws {
        let mail = ParsedMail.parse(raw)
        var parsed = ParsedWebhook()
        parsed.add(raw: String(decoding: raw.prefix(64 * 1024), as: UTF8.self)) { () throws(WebhookError) in
            try MailEvents.events(from: mail, raw: raw, receivedAt: receivedAt)
        }
        guard !parsed.events.isEmpty || !parsed.unreadable.isEmpty else {
            logger.info("machine mail not filed", metadata: ["channel.account": "\(account.key)", "mail.origin": "\(mail.origin)"])
            return
        }
        _ = try await inbox.ingest(parsed.events, unreadable: parsed.unreadable, from: account)
    }

    /// Until new mail may be there: an IDLE that a delivery ends, or the poll interval.
    func waitForMail(_ open: Connection.Open) async throws {
        let limit = min(configuration.imap.pollInterval, Self.longestIdle)
        let session = open.session
        if open.idle {
            _ = try await withGracefulShutdownHandler {
                try await blocking { try session.idle(limit: limit) }
            } onGracefulShutdown: {
                session.stop()
            }
        } else {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: limit) }
        }
    }

    /// The IMAP session kept between rounds, opened again after a failure.
    final class Connection: Sendable {
        struct Open: Sendable {
            let session: IMAPSession
            let uidValidity: UInt32
            let idle: Bool
        }

        private let current = Mutex<Open?>(nil)

        func open(_ imap: EmailConfiguration.IMAP) async throws -> Open {
            if let open = current.withLock({ $0 }) {
                // Selected again each round: UIDVALIDITY may change while connected.
                let validity = try await blocking { try open.session.select(imap.mailbox) }
                let fresh = Open(session: open.session, uidValidity: validity, idle: open.idle)
                current.withLock { $0 = fresh }
                return fresh
            }
            let settings = IMAPSettings(
                url: imap.url, username: imap.username, password: imap.password, mailbox: imap.mailbox, caFile: imap.caFile,
                allowPlaintext: imap.allowPlaintext)
            let opened = try await blocking { () throws -> Open in
                let session = try IMAPSession(settings: settings)
                let idle = try session.capabilities().contains("IDLE")
                return Open(session: session, uidValidity: try session.select(imap.mailbox), idle: idle)
            }
            current.withLock { $0 = opened }
            return opened
        }

        func drop() {
            let open = current.withLock { open in
                defer { open = nil }
                return open
            }
            open?.session.logout()
        }
    }
}

/// Runs blocking work (an IMAP command) on a thread of its own, never on Swift's cooperative pool.
private func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
