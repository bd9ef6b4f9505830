@testable import BridgeServer
import ChannelKit
import Foundation
import Testing
import WebchatChannel

/// Images on the website widget, both ways, end to end (real HTTP on loopback, both databases): a
/// visitor's image becomes an image message in the ticket through the same ingest as text, its bytes
/// in the attachment store; an agent's uploaded image reaches the visitor, who alone can fetch it.
@Suite struct WidgetImageTests {
    static let base = WidgetAPITests.base

    /// The files kept in the bridge's uploads directory (where a visitor's image waits to be copied).
    static func kept(_ t: TestBridge) -> [String] { UploadTests.stored(t) }

    @Test func aVisitorsImageLandsInTheTicketAndTheAttachmentStore() async throws {
        try await TestBridge.with { t in
            let visitor = try await Visitor.start(t)
            // Sent as the browser would send any file: its type is read from its bytes, not from here.
            let sent = try await visitor.sendImage("i-1", UploadTests.png, contentType: "application/octet-stream")
            #expect(sent.status == 202, "\(sent.text)")
            let again = try await visitor.sendImage("i-1", UploadTests.png)
            #expect(again.status == 202 && again.json["duplicate"] as? Bool == true)

            let ticketId = try #require(try await t.get("/api/v1/tickets?channel=webchat").items.first?["id"] as? Int)
            var attachment: [String: Any] = [:]
            try await t.eventually("the image stored in the attachment store") {
                let messages = try await t.messages(ticket: ticketId)
                guard messages.count == 1, let first = messages.first?["attachments"] as? [[String: Any]], let only = first.first else { return false }
                attachment = only
                return only["status"] as? String == "stored"
            }
            let message = try #require(try await t.messages(ticket: ticketId).first)
            #expect((message["content"] as? [String: Any])?["kind"] as? String == "image")
            #expect(message["direction"] as? String == "in")
            #expect(attachment["mimeType"] as? String == "image/png")
            let file = try await t.get(try #require(attachment["url"] as? String))
            #expect(file.status == 200 && file.body == UploadTests.png)
            #expect(file.headers["Content-Type"] == ["image/png"])
            // Copied, the kept file is let go; the retried post kept none.
            try await t.eventually("the kept copy deleted") { Self.kept(t).isEmpty }

            // The visitor sees it in their conversation and can fetch it back.
            let messages = try #require(try await visitor.conversation()["messages"] as? [[String: Any]])
            #expect(messages.count == 1 && messages[0]["image"] as? Bool == true && messages[0]["direction"] as? String == "in")
            let id = try #require(messages[0]["id"] as? Int)
            let own = try await visitor.get("\(Self.base)/messages/\(id)/image")
            #expect(own.status == 200 && own.body == UploadTests.png)
            #expect(own.headers["X-Content-Type-Options"] == ["nosniff"])
        }
    }

    /// Until the follow-up worker has copied it into the attachment store, the visitor's own image is
    /// served from the copy the widget's API kept (no 409 for the widget to ask again after). Here the
    /// copy cannot be made (the attachment directory is a file) and is tried again only after an
    /// hour, so it stays pending throughout.
    @Test func aVisitorSeesTheirOwnImageBeforeItIsCopied() async throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("widget-pending-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: parent) }
        let media = parent.appendingPathComponent("attachments").path
        try await TestBridge.with(configure: {
            $0.media.directory = media
            $0.retry = RetryPolicy(initialDelay: .seconds(3600), maxDelay: .seconds(3600), maxAttempts: 4)
        }) { t in
            try FileManager.default.removeItem(atPath: media)
            #expect(FileManager.default.createFile(atPath: media, contents: Data()))
            let visitor = try await Visitor.start(t)
            #expect(try await visitor.sendImage("i-1", UploadTests.png).status == 202)
            let ticketId = try #require(try await t.get("/api/v1/tickets?channel=webchat").items.first?["id"] as? Int)
            let attachment = try #require((try await t.messages(ticket: ticketId).first?["attachments"] as? [[String: Any]])?.first)
            #expect(attachment["status"] as? String == "pending")

            let seen = try #require(try await visitor.conversation()["messages"] as? [[String: Any]])
            let id = try #require(seen.first?["id"] as? Int)
            let own = try await visitor.get("\(Self.base)/messages/\(id)/image")
            #expect(own.status == 200 && own.body == UploadTests.png, "\(own.status) \(own.text)")
            #expect(own.headers["Content-Type"] == ["image/png"])
            #expect(own.headers["X-Content-Type-Options"] == ["nosniff"])
            // Still kept for the copy, which waits to be tried again.
            #expect((try FileManager.default.contentsOfDirectory(atPath: parent.appendingPathComponent("uploads").path)).count == 1)
        }
    }

    @Test func aBadTypeATooLargeFileAndOneOverTheLimitsAreRefusedAndChangeNothing() async throws {
        try await TestBridge.with(configure: {
            $0.widgetLimits = .init(messagesPerVisitor: RateLimit(perSecond: 0.001, burst: 3))
        }) { t in
            let visitor = try await Visitor.start(t)
            // Not an image, whatever it says it is: refused by its bytes.
            let html = try await visitor.sendImage("i-1", Data("<html><script>alert(1)</script></html>".utf8), contentType: "image/png")
            #expect(html.status == 415 && html.errorCode == "not_an_image", "\(html.text)")
            // Too large: by its declared length, before anything is read or counted.
            let large = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + Data(count: WebchatAdapter.maxImageBytes)
            let tooLarge = try await visitor.sendImage("i-2", large)
            #expect(tooLarge.status == 413 && tooLarge.errorCode == "body_too_large", "\(tooLarge.text)")
            #expect(try await visitor.sendImage("bad id!", UploadTests.png).errorCode == "invalid_message")
            let stranger = Visitor(t: t, token: "nope", visitorId: "", new: true, settings: [:])
            #expect(try await stranger.sendImage("i-3", UploadTests.png).status == 401)
            #expect(Self.kept(t).isEmpty)
            #expect(try await t.get("/api/v1/tickets?channel=webchat").items.isEmpty)

            // Counted with the visitor's messages (the refused file was one): a text and an image, then refused.
            #expect(try await visitor.say("m-1", "one").status == 202)
            #expect(try await visitor.sendImage("i-4", UploadTests.jpeg).status == 202)
            let limited = try await visitor.sendImage("i-5", UploadTests.gif)
            #expect(limited.status == 429 && limited.errorCode == "rate_limited")
            let ticketId = try #require(try await t.get("/api/v1/tickets?channel=webchat").items.first?["id"] as? Int)
            #expect(try await t.messages(ticket: ticketId).count == 2)
        }
    }

    @Test func theAgentsImageReachesTheVisitorAndNoOneElse() async throws {
        try await TestBridge.with { t in
            let visitor = try await Visitor.start(t)
            #expect(try await visitor.say("m-1", "What does it look like?").status == 202)
            let ticketId = try #require(try await t.get("/api/v1/tickets?channel=webchat").items.first?["id"] as? Int)
            let upload = try await UploadTests.upload(t, UploadTests.webp, type: "image/webp")
            let url = try #require(upload.json["url"] as? String)
            #expect(try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"image":{"url":"\#(url)"},"text":"This one"}"#).status == 202)

            var reply: [String: Any] = [:]
            try await t.eventually("the image, sent, in the visitor's conversation") {
                let messages = try await visitor.conversation()["messages"] as? [[String: Any]] ?? []
                reply = messages.last ?? [:]
                return reply["direction"] as? String == "out" && reply["status"] as? String == "sent"
            }
            #expect(reply["image"] as? Bool == true && reply["text"] as? String == "This one")
            // The link the platforms use is not given to the visitor: the token is the key.
            #expect(!(try await visitor.conversation().description.contains("/media/")))
            let id = try #require(reply["id"] as? Int)
            let image = try await visitor.get("\(Self.base)/messages/\(id)/image")
            #expect(image.status == 200 && image.body == UploadTests.webp)
            #expect(image.headers["Content-Type"] == ["image/webp"])
            #expect(image.headers["X-Content-Type-Options"] == ["nosniff"])
            #expect(image.headers["Content-Security-Policy"] == ["default-src 'none'; sandbox"])

            // Another visitor, no token, a text message, an id that is nobody's: the same 404 or 401.
            let stranger = try await Visitor.start(t)
            #expect(try await stranger.get("\(Self.base)/messages/\(id)/image").status == 404)
            #expect(try await t.get("\(Self.base)/messages/\(id)/image", token: nil).status == 401)
            let text = try #require((try await visitor.conversation()["messages"] as? [[String: Any]])?.first?["id"] as? Int)
            #expect(try await visitor.get("\(Self.base)/messages/\(text)/image").status == 404)
            #expect(try await visitor.get("\(Self.base)/messages/99999/image").status == 404)
        }
    }

    @Test func anImageFromElsewhereOnTheWebIsRefusedForTheWidget() async throws {
        try await TestBridge.with { t in
            let visitor = try await Visitor.start(t)
            #expect(try await visitor.say("m-1", "Hello").status == 202)
            let ticketId = try #require(try await t.get("/api/v1/tickets?channel=webchat").items.first?["id"] as? Int)
            let reply = try await t.postJSON("/api/v1/tickets/\(ticketId)/messages", #"{"image":{"url":"https://cdn.example.com/shoe.jpg"}}"#)
            #expect(reply.status == 422 && reply.errorCode == "unsupported_content", "\(reply.text)")
            #expect(try await t.messages(ticket: ticketId).count == 1)
        }
    }
}

extension Visitor {
    /// Sends an image as the widget does: the file as the body, the client id in the query.
    func sendImage(_ id: String, _ data: Data, contentType: String = "image/png") async throws -> TestBridge.Reply {
        let query = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id
        return try await t.request(
            .POST, "\(WidgetAPITests.base)/images?id=\(query)", body: data, headers: [("Content-Type", contentType), ("X-Visitor-Token", token)], token: nil)
    }
}
