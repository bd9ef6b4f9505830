@testable import BridgeServer
import ChannelKit
import Foundation
import Testing
import WebchatChannel

/// An address typed in the widget's offline form joins the visitor to the customer who has it only
/// once the visitor opens the link mailed to that address: a stranger who types someone's address
/// gets nothing of theirs, and the real owner's chat and e-mail become one customer.
@Suite struct WidgetAddressConfirmationTests {
    @Test func theMailedLinkJoinsTheVisitorToTheCustomerWithThatAddress() async throws {
        let relay = try SMTPTestServer()
        defer { relay.stop() }
        try await TestBridge.with(standIns: [.line], configure: { $0.email = relay.settings() }) { t in
            let known = try await t.customerWrites(Payloads.lineUser, "Hello from LINE")
            let customer = try #require((try await t.get("/api/v1/tickets/\(known)").json["contact"] as? [String: Any])?["id"] as? Int)
            #expect(try await t.patchJSON("/api/v1/contacts/\(customer)", #"{"email":"Ana@Example.com"}"#).status == 200)

            let visitor = try await Visitor.start(t)
            let left = try await visitor.request(
                .POST, "\(WidgetAPITests.base)/offline", #"{"id":"o-1","name":"Ana Lima","email":"ana@example.com","text":"Please call me back"}"#)
            #expect(left.status == 202)
            #expect(left.json["confirmationSent"] as? Bool == true)
            let mail = try #require(try relay.received().first)
            #expect(mail.to == ["ana@example.com"])
            let link = try #require(mail.body.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix(TestBridge.publicBaseURL) }.map(String.init))
            let path = String(link.dropFirst(TestBridge.publicBaseURL.count))
            #expect(path.hasPrefix("/widget/v1/site/confirm/"))

            // Until the link is used, the visitor is a contact of their own, and the address only a note.
            let ticket = try #require(try await t.get("/api/v1/tickets?channel=webchat").items.first)
            let visitorContact = try #require((ticket["contact"] as? [String: Any])?["id"] as? Int)
            #expect(visitorContact != customer)
            let notes = try await t.get("/api/v1/tickets/\(ticket["id"] as? Int ?? 0)/notes").items
            #expect(notes.contains { ($0["text"] as? String)?.contains("confirmation link was sent") == true }, "\(notes)")

            // Another visitor typing the same address within the hour mails it nothing more.
            let other = try await Visitor.start(t)
            let again = try await other.request(
                .POST, "\(WidgetAPITests.base)/offline", #"{"id":"o-1","name":"Not Ana","email":"ANA@example.com","text":"hi"}"#)
            #expect(again.json["confirmationSent"] as? Bool == false)
            #expect(try relay.received().count == 1)

            // Opening the link (as a mail scanner does) changes nothing; a tampered one is refused.
            let page = try await t.request(.GET, path, token: nil)
            #expect(page.status == 200 && page.text.contains("<form method=\"post\">"))
            #expect(page.headers.first { $0.0.lowercased() == "cache-control" }?.1 == "no-store")
            #expect(try await t.get("/api/v1/contacts/\(visitorContact)").status == 200)
            let tampered = String(path.dropLast()) + (path.hasSuffix("A") ? "B" : "A")
            #expect(try await t.request(.GET, tampered, token: nil).status == 404)
            #expect(try await t.request(.POST, tampered, token: nil).status == 404)
            #expect(try await t.get("/api/v1/contacts/\(visitorContact)").status == 200)

            // The button: the visitor joins Ana (her LINE and the chat are one customer); twice is the same.
            for _ in 1...2 {
                let done = try await t.request(.POST, path, token: nil)
                #expect(done.status == 200 && done.text.contains("confirmed"), "\(done.status) \(done.text)")
            }
            let joined = try await t.get("/api/v1/contacts/\(customer)").json
            #expect(Set((joined["identities"] as? [[String: Any]] ?? []).compactMap { $0["channel"] as? String }) == ["line", "webchat"])
            #expect(try await t.get("/api/v1/contacts/\(visitorContact)").status == 404)
            #expect(((try await t.get("/api/v1/tickets/\(ticket["id"] as? Int ?? 0)").json["contact"] as? [String: Any])?["id"] as? Int) == customer)
            // The other visitor, who never had the link, is still a stranger.
            let otherTicket = try #require(try await t.get("/api/v1/tickets?channel=webchat").items.first { $0["id"] as? Int != ticket["id"] as? Int })
            #expect((otherTicket["contact"] as? [String: Any])?["id"] as? Int != customer)
        }
    }

    @Test func aConfirmedAddressNobodyHasBecomesTheVisitorsAndAnUnconfirmedOneNever() async throws {
        let relay = try SMTPTestServer()
        defer { relay.stop() }
        try await TestBridge.with(standIns: [.line], configure: { $0.email = relay.settings() }) { t in
            let visitor = try await Visitor.start(t)
            #expect(try await visitor.request(
                .POST, "\(WidgetAPITests.base)/offline", #"{"id":"o-1","name":"Kai","email":"kai@example.com","text":"Hello?"}"#).status == 202)
            let contact = try #require((try await t.get("/api/v1/tickets?channel=webchat").items.first?["contact"] as? [String: Any])?["id"] as? Int)
            #expect(try await t.get("/api/v1/contacts/\(contact)").json["email"] == nil)
            let body = try #require(try relay.received().first?.body)
            let link = try #require(body.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix(TestBridge.publicBaseURL) }.map(String.init))
            #expect(try await t.request(.POST, String(link.dropFirst(TestBridge.publicBaseURL.count)), token: nil).status == 200)
            #expect(try await t.get("/api/v1/contacts/\(contact)").json["email"] as? String == "kai@example.com")
        }
    }

    @Test func aTokenOpensOnlyForItsAccountSecretAndUntilItExpires() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let visitorId = VisitorToken.newVisitorId()
        let token = AddressConfirmation.make(visitorId: visitorId, address: "kai@example.com", expires: now.addingTimeInterval(60), secret: "s1")
        #expect(AddressConfirmation.open(token, secret: "s1", now: now)?.address == "kai@example.com")
        #expect(AddressConfirmation.open(token, secret: "s1", now: now)?.visitorId == visitorId)
        #expect(AddressConfirmation.open(token, secret: "s2", now: now) == nil)
        #expect(AddressConfirmation.open(token, secret: "s1", now: now.addingTimeInterval(61)) == nil)
        // A visitor token never passes as a confirmation, nor the other way round.
        #expect(AddressConfirmation.open(VisitorToken.make(visitorId: visitorId, secret: "s1"), secret: "s1", now: now) == nil)
        #expect(VisitorToken.visitorId(in: token, secret: "s1") == nil)
    }
}
