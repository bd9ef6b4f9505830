import ChannelKit
import Foundation
import PlatformStandIns
import SMSChannel
import Testing

@Suite struct SMSOutboundTests {
    let customer = "+15550001111"
    let path = "/2010-04-01/Accounts/AC9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a/Messages.json"

    @Test func sendsFormWithBasicAuthAndStatusCallback() async throws {
        try await withStandIn(StandInPlatforms.sms()) { standIn, transport in
            let adapter = TestAccounts.sms(apiBaseURL: standIn.baseURL, statusCallbackURL: "https://bridge.example.com/webhooks/sms/main")
            let receipt = try await adapter.send(outbound(.text("Order #1234 shipped"), to: customer), transport: transport)
            let request = try #require(standIn.requests.first)
            #expect(request.method == "POST")
            #expect(request.path == path)
            #expect(request.headers["content-type"] == "application/x-www-form-urlencoded")
            #expect(request.headers["authorization"] == "Basic " + Data("AC9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a:twilio-test-auth-token".utf8).base64EncodedString())
            #expect(request.text == "To=%2B15550001111&From=%2B15552223333&Body=Order+%231234+shipped&StatusCallback=https%3A%2F%2Fbridge.example.com%2Fwebhooks%2Fsms%2Fmain")
            #expect(receipt.platformMessageId?.hasPrefix("SM") == true)
            #expect(receipt.segments == MessageSegments(count: 1, encoding: "gsm7"))
        }
    }

    @Test func mmsImage() async throws {
        try await withStandIn(StandInPlatforms.sms()) { standIn, transport in
            let content = MessageContent(kind: .image, text: "your label", media: MediaReference(url: "https://cdn.example.com/label.png"))
            _ = try await TestAccounts.sms(apiBaseURL: standIn.baseURL).send(outbound(content, to: customer), transport: transport)
            #expect(standIn.requests.first?.text == "To=%2B15550001111&From=%2B15552223333&Body=your+label&MediaUrl=https%3A%2F%2Fcdn.example.com%2Flabel.png")
        }
    }

    @Test func optedOutNumberIsNeverSentTo() async throws {
        try await withStandIn(StandInPlatforms.sms()) { standIn, transport in
            let error = await sendError {
                _ = try await TestAccounts.sms(apiBaseURL: standIn.baseURL)
                    .send(outbound(.text("promo"), to: customer, context: ConversationContext(recipientBlocked: true)), transport: transport)
            }
            #expect(error?.code == "opted_out")
            #expect(error?.reason.contains("START") == true)
            #expect(standIn.requests.isEmpty)
        }
    }

    @Test(arguments: [
        (400, #"{"code":21610,"message":"Attempt to send to unsubscribed recipient","more_info":"https://www.twilio.com/docs/errors/21610","status":400}"#, [:], "opted_out", false),
        (429, #"{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}"#, ["retry-after": "2"], "twilio_20429", true),
        (401, #"{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}"#, [:], "twilio_20003", false),
        (400, #"{"code":21211,"message":"The 'To' number +1555 is not a valid phone number.","status":400}"#, [:], "twilio_21211", false),
        (503, "Service Unavailable", [:], "http_503", true),
    ])
    func errorsAreClassified(_ status: Int, _ body: String, _ headers: [String: String], _ code: String, _ retryable: Bool) async throws {
        try await withStandIn(StandInPlatforms.sms()) { standIn, transport in
            standIn.script(path, [.json(body, status: status, headers: headers)])
            let error = await sendError { _ = try await TestAccounts.sms(apiBaseURL: standIn.baseURL).send(outbound(.text("x"), to: customer), transport: transport) }
            #expect(error?.code == code)
            #expect(error?.isRetryable == retryable)
        }
    }

    @Test func mmsMediaIsFetchedWithBasicAuth() async throws {
        try await withStandIn(StandInPlatforms.sms()) { standIn, transport in
            let media = try await TestAccounts.sms(apiBaseURL: standIn.baseURL)
                .downloadMedia(MediaReference(url: standIn.baseURL + "/media/ME11"), kind: .image, maxBytes: 1 << 20, transport: transport)
            #expect(media.data == StandInPlatforms.sampleMedia)
            #expect(standIn.requests.first?.headers["authorization"]?.hasPrefix("Basic ") == true)
        }
    }

    @Test(arguments: [
        ("Hello", SMSSegments.Encoding.gsm7, 1),
        (String(repeating: "a", count: 160), .gsm7, 1),
        (String(repeating: "a", count: 161), .gsm7, 2),
        (String(repeating: "a", count: 306), .gsm7, 2),
        (String(repeating: "a", count: 307), .gsm7, 3),
        (String(repeating: "€", count: 80), .gsm7, 1),  // each € costs two septets: exactly 160
        (String(repeating: "€", count: 81), .gsm7, 2),
        ("¿Dónde está mi pedido?", .ucs2, 1),  // ó is not GSM-7
        (String(repeating: "日", count: 70), .ucs2, 1),
        (String(repeating: "日", count: 71), .ucs2, 2),
        (String(repeating: "日", count: 135), .ucs2, 3),
        ("📦", .ucs2, 1),
    ])
    func segmentCounting(_ text: String, _ encoding: SMSSegments.Encoding, _ segments: Int) {
        let counted = SMSSegments.count(text)
        #expect(counted.encoding == encoding)
        #expect(counted.segments == segments)
    }
}
