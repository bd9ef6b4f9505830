import ChannelKit
import Foundation
import Testing
import WebchatChannel

/// The widget's visitor tokens and what the webchat adapter does with a reply (no platform call).
@Suite struct WebchatAdapterTests {
    let secret = TestAccounts.webchatSecret

    @Test func tokenNamesItsVisitorAndNoOther() throws {
        let id = VisitorToken.newVisitorId()
        #expect(VisitorToken.isVisitorId(id))
        let token = VisitorToken.make(visitorId: id, secret: secret)
        #expect(VisitorToken.visitorId(in: token, secret: secret) == id)
        // Another visitor's id with this signature, this token under another key, and damaged tokens.
        let other = VisitorToken.newVisitorId()
        let signature = String(token.split(separator: ".")[1])
        #expect(VisitorToken.visitorId(in: other + "." + signature, secret: secret) == nil)
        #expect(VisitorToken.visitorId(in: token, secret: "another-visitor-secret") == nil)
        for bad in ["", id, id + ".", "." + signature, token + "x", token + ".x", "a.b"] {
            #expect(VisitorToken.visitorId(in: bad, secret: secret) == nil, "\(bad)")
        }
    }

    @Test func newVisitorIdsDiffer() {
        #expect(Set((0..<100).map { _ in VisitorToken.newVisitorId() }).count == 100)
    }

    /// The token matches the fixtures' generator (fixtures/make_webchat_fixtures.py).
    @Test func tokenFormatIsTheDocumentedOne() {
        #expect(
            VisitorToken.make(visitorId: TestAccounts.webchatVisitor, secret: secret)
                == TestAccounts.webchatVisitor + "." + Base64URL.encode(Data(base64Encoded: Signatures.hmacSHA256Base64(secret: secret, body: Data(TestAccounts.webchatVisitor.utf8)))!))
    }

    @Test func aReplyIsSentWithoutAnyCallAndNamedForReceipts() async throws {
        let adapter = TestAccounts.webchat()
        let message = OutboundMessage(id: "42-abc", recipient: TestAccounts.webchatVisitor, content: .text("Yes, in all sizes."), context: ConversationContext())
        let receipt = try await adapter.send(message, transport: RefusingTransport())
        #expect(receipt.platformMessageId == "wc-42-abc")
        #expect(adapter.refusal(for: OutboundMessage(id: "1", recipient: "v", content: .text(String(repeating: "x", count: 4001)), context: ConversationContext()))?.code == "text_too_long")
        #expect(adapter.refusal(for: OutboundMessage(id: "1", recipient: "v", content: MessageContent(kind: .location), context: ConversationContext()))?.code == "unsupported_content")
    }

    /// An image goes to the visitor only when the bridge serves it itself (an agent's upload).
    @Test func anImageReplyMustBeAnUploadToTheBridge() {
        let adapter = TestAccounts.webchat()
        func refusal(_ url: String) -> String? {
            adapter.refusal(for: OutboundMessage(
                id: "1", recipient: "v", content: MessageContent(kind: .image, text: "This one", media: MediaReference(url: url)), context: ConversationContext()))?.code
        }
        let id = String(repeating: "a1", count: 16)
        let signature = String(repeating: "0f", count: 32)
        #expect(refusal("https://bridge.example.com/media/\(id)/\(signature)") == nil)
        #expect(WebchatAdapter.uploadLink("https://bridge.example.com/media/\(id)/\(signature)")! == (id, signature))
        #expect(refusal("https://cdn.example.com/shoe.jpg") == "unsupported_content")
        #expect(refusal("https://bridge.example.com/media/\(id.uppercased())/\(signature)") == "unsupported_content")
        #expect(refusal("https://bridge.example.com/media/\(id)/\(signature)x") == "unsupported_content")
    }

    /// A visitor's image is the same kind of event as their text: the token names the sender, the
    /// widget's id (under the visitor's) is the event id, the media names the bytes the bridge kept.
    @Test func aVisitorsImageIsAnImageEventOfTheVisitor() throws {
        let adapter = TestAccounts.webchat()
        let token = VisitorToken.make(visitorId: TestAccounts.webchatVisitor, secret: secret)
        let request = WebhookRequest(method: "POST", headers: [WebchatAdapter.tokenHeader: token], receivedAt: Date(timeIntervalSince1970: 1_000))
        let event = try adapter.imageEvent(request, id: "i-1", storedId: "kept", mimeType: "image/png", size: 120)
        #expect(event.eventId == "\(TestAccounts.webchatVisitor):i-1")
        #expect(event.sender?.id == TestAccounts.webchatVisitor)
        #expect(event.message?.content == MessageContent(kind: .image, media: MediaReference(platformId: "kept", mimeType: "image/png", size: 120)))
        #expect(throws: WebhookError.self) { try adapter.imageEvent(request, id: "bad id", storedId: "kept", mimeType: "image/png", size: 1) }
        #expect(throws: WebhookError.self) { try adapter.imageEvent(WebhookRequest(method: "POST"), id: "i-1", storedId: "kept", mimeType: "image/png", size: 1) }
    }
}

/// A transport that fails the test if anything is sent through it.
private struct RefusingTransport: HTTPTransport {
    func perform(_ request: TransportRequest, maxResponseBytes: Int) async throws -> TransportResponse {
        Issue.record("the webchat adapter called \(request.url)")
        throw SendError.permanent("unexpected", "no call expected")
    }
}
