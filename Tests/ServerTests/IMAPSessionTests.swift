import Email
import Foundation
import Testing

/// The IMAP client against a real Dovecot: login over TLS, SELECT's UIDVALIDITY, UID SEARCH and
/// FETCH of whole messages (literals), \Seen, and IDLE woken by a delivery.
@Suite struct IMAPSessionTests {
    static let mail = Data("From: Ana <ana@example.com>\r\nSubject: Hi\r\nMessage-ID: <m1@example.com>\r\n\r\nHello {5}\r\nbytes\r\n".utf8)

    @Test func fetchesByUID() throws {
        let server = try DovecotServer()
        try server.deliver(Self.mail)
        try server.deliver(Self.mail + Data("second\r\n".utf8))
        let session = try IMAPSession(settings: server.settings())
        let validity = try session.select("INBOX")
        #expect(validity > 0)
        #expect(try session.uids(after: 0) == [1, 2])
        #expect(try session.uids(after: 1) == [2])
        #expect(try session.uids(after: 2) == [])
        #expect(try session.fetch(uid: 1)?.raw == Self.mail)
        #expect(try session.fetch(uid: 2)?.raw == Self.mail + Data("second\r\n".utf8))
        #expect(try session.fetch(uid: 9) == nil)
        try session.markSeen(uid: 1)
        // Another session sees the same mailbox generation.
        #expect(try IMAPSession(settings: server.settings()).select("INBOX") == validity)
    }

    @Test func wrongPasswordIsRefusedWithoutSayingIt() throws {
        let server = try DovecotServer()
        var settings = server.settings()
        settings.password = "not-the-password-xyz"
        #expect {
            try IMAPSession(settings: settings)
        } throws: { error in
            "\(error)".contains("could not log in") && !"\(error)".contains("not-the-password-xyz")
        }
    }

    @Test func idleWakesOnDelivery() async throws {
        let server = try DovecotServer()
        let session = try IMAPSession(settings: server.settings())
        _ = try session.select("INBOX")
        #expect(try session.capabilities().contains("IDLE"))
        // An hour's limit: only the delivery, made once the server is idling, can end this IDLE.
        let idling = AsyncStream<Void>.makeStream()
        let waiting = Task.detached { try session.idle(limit: .seconds(3600)) { idling.continuation.yield() } }
        for await _ in idling.stream { break }
        try server.deliver(Self.mail)
        #expect(try await waiting.value == true)
        #expect(try session.uids(after: 0) == [1])
    }
}
