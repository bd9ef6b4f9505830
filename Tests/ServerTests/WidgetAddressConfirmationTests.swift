@testable import BridgeServer
import ChannelKit
import Foundation
import Testing
import WebchatChannel

/// An address typed in the widget's offline form joins the visitor to the customer who has it only
/// once the visitor types the code mailed to that address: a stranger who types someone's address
/// gets nothing of theirs (nor does the owner's click join them to the stranger), and the real
/// owner's chat and e-mail become one customer.
@Suite struct WidgetAddressConfirmationTests {
    static func code(in mail: SMTPTestServer.Received) -> String? {
        mail.body.split(whereSeparator: { !$0.isNumber }).first { $0.count == 6 }.map(String.init)
    }

    func confirm(_ visitor: Visitor, _ email: String, _ code: String) async throws -> TestBridge.Reply {
        try await visitor.request(.POST, "\(WidgetAPITests.base)/confirm", #"{"email":"\#(email)","code":"\#(code)"}"#)
    }

    @Test func theMailedCodeJoinsTheVisitorToTheCustomerWithThatAddress() async throws {
        let relay = try SMTPTestServer()
        defer { relay.stop() }
        try await TestBridge.with(standIns: [.line], configure: { $0.email = relay.settings() }) { t in
            let known = try await t.customerWrites(Payloads.lineUser, "Hello from LINE")
            let customer = try #require((try await t.get("/api/v1/tickets/\(known)").json["contact"] as? [String: Any])?["id"] as? Int)
            #expect(try await t.patchJSON("/api/v1/contacts/\(customer)", #"{"email":"Ana@Example.com"}"#).status == 200)

            let visitor = try await Visitor.start(t)
            // Only a plain address: `x <ana@…>` forms would reach one inbox under endless keys.
            let angled = try await visitor.request(
                .POST, "\(WidgetAPITests.base)/offline", #"{"id":"o-0","name":"Ana","email":"a<ana@example.com>","text":"hi"}"#)
            #expect(angled.status == 400 && angled.errorCode == "invalid_email")
            let left = try await visitor.request(
                .POST, "\(WidgetAPITests.base)/offline", #"{"id":"o-1","name":"Ana Lima","email":"ana@example.com","text":"Please call me back"}"#)
            #expect(left.status == 202)
            #expect(left.json["confirmationSent"] as? Bool == true)
            let mail = try #require(try relay.received().first)
            #expect(mail.to == ["ana@example.com"])
            #expect(mail.headers["auto-submitted"] == "auto-replied")
            let code = try #require(Self.code(in: mail))

            // Until the code is typed, the visitor is a contact of their own, and the address only a note.
            let ticket = try #require(try await t.get("/api/v1/tickets?channel=webchat").items.first)
            let visitorContact = try #require((ticket["contact"] as? [String: Any])?["id"] as? Int)
            #expect(visitorContact != customer)
            let notes = try await t.get("/api/v1/tickets/\(ticket["id"] as? Int ?? 0)/notes").items
            #expect(notes.contains { ($0["text"] as? String)?.contains("confirmation code was mailed") == true }, "\(notes)")

            // Another visitor typing the same address within the hour mails it nothing more, and
            // Ana's code is no use to them.
            let other = try await Visitor.start(t)
            let again = try await other.request(
                .POST, "\(WidgetAPITests.base)/offline", #"{"id":"o-1","name":"Not Ana","email":"ANA@example.com","text":"hi"}"#)
            #expect(again.json["confirmationSent"] as? Bool == false)
            #expect(try relay.received().count == 1)
            let stolen = try await confirm(other, "ana@example.com", code)
            #expect(stolen.status == 400 && stolen.errorCode == "wrong_code")

            // A wrong code changes nothing; the right one joins the visitor to Ana (her LINE and the
            // chat are one customer); twice is the same.
            let wrong = code == "000000" ? "000001" : "000000"
            #expect(try await confirm(visitor, "ana@example.com", wrong).errorCode == "wrong_code")
            #expect(try await t.get("/api/v1/contacts/\(visitorContact)").status == 200)
            for _ in 1...2 {
                let done = try await confirm(visitor, "ana@example.com", code)
                #expect(done.status == 200 && done.json["confirmed"] as? Bool == true, "\(done.status) \(done.text)")
            }
            let joined = try await t.get("/api/v1/contacts/\(customer)").json
            #expect(Set((joined["identities"] as? [[String: Any]] ?? []).compactMap { $0["channel"] as? String }) == ["line", "webchat"])
            #expect(try await t.get("/api/v1/contacts/\(visitorContact)").status == 404)
            #expect(((try await t.get("/api/v1/tickets/\(ticket["id"] as? Int ?? 0)").json["contact"] as? [String: Any])?["id"] as? Int) == customer)
            // The other visitor, who never had the code, is still a stranger.
            let otherTicket = try #require(try await t.get("/api/v1/tickets?channel=webchat").items.first { $0["id"] as? Int != ticket["id"] as? Int })
            #expect((otherTicket["contact"] as? [String: Any])?["id"] as? Int != customer)
        }
    }

    @Test func aConfirmedAddressNobodyHasBecomesTheVisitorsAndGuessingIsCut() async throws {
        let relay = try SMTPTestServer()
        defer { relay.stop() }
        try await TestBridge.with(standIns: [.line], configure: { $0.email = relay.settings() }) { t in
            let visitor = try await Visitor.start(t)
            #expect(try await visitor.request(
                .POST, "\(WidgetAPITests.base)/offline", #"{"id":"o-1","name":"Kai","email":"kai@example.com","text":"Hello?"}"#).status == 202)
            let contact = try #require((try await t.get("/api/v1/tickets?channel=webchat").items.first?["contact"] as? [String: Any])?["id"] as? Int)
            #expect(try await t.get("/api/v1/contacts/\(contact)").json["email"] == nil)
            let mail = try #require(try relay.received().first)
            let code = try #require(Self.code(in: mail))
            let wrong = code == "000000" ? "000001" : "000000"
            for _ in 1...4 { #expect(try await confirm(visitor, "kai@example.com", wrong).errorCode == "wrong_code") }
            #expect(try await confirm(visitor, "kai@example.com", code).status == 200)
            #expect(try await t.get("/api/v1/contacts/\(contact)").json["email"] as? String == "kai@example.com")
            // Five tries an hour: the sixth is refused, even with the right code.
            let limited = try await confirm(visitor, "kai@example.com", code)
            #expect(limited.status == 429)
        }
    }

    @Test func aCodeHoldsOnlyForItsVisitorAddressSecretAndDay() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let visitor = VisitorToken.newVisitorId()
        let code = AddressConfirmation.code(visitorId: visitor, address: "Kai@Example.com", at: now, secret: "s1")
        #expect(code.count == 6 && code.allSatisfy(\.isNumber))
        #expect(AddressConfirmation.holds(code, visitorId: visitor, address: "kai@example.com", at: now, secret: "s1"))
        #expect(AddressConfirmation.holds(code, visitorId: visitor, address: "kai@example.com", at: now.addingTimeInterval(12 * 3600), secret: "s1"))
        #expect(!AddressConfirmation.holds(code, visitorId: visitor, address: "kai@example.com", at: now.addingTimeInterval(24 * 3600 + 1), secret: "s1"))
        #expect(!AddressConfirmation.holds(code, visitorId: VisitorToken.newVisitorId(), address: "kai@example.com", at: now, secret: "s1"))
        #expect(!AddressConfirmation.holds(code, visitorId: visitor, address: "kai2@example.com", at: now, secret: "s1"))
        #expect(!AddressConfirmation.holds(code, visitorId: visitor, address: "kai@example.com", at: now, secret: "s2"))
    }

    @Test func clientsAreLimitedByIPv6Slash64() {
        #expect(WidgetThrottle.addressKey("2001:db8:1:2:aaaa::1") == WidgetThrottle.addressKey("2001:db8:1:2:bbbb::9"))
        #expect(WidgetThrottle.addressKey("2001:db8:1:2::1") != WidgetThrottle.addressKey("2001:db8:1:3::1"))
        #expect(WidgetThrottle.addressKey("203.0.113.7") == "203.0.113.7")
        #expect(WidgetThrottle.addressKey("::ffff:203.0.113.7") == "203.0.113.7")
    }
}
