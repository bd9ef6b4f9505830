import ChannelKit
import Foundation
import LINEChannel
import MessengerChannel
import PlatformStandIns
import SMSChannel
import Testing
import WeChatChannel
import WhatsAppChannel

/// A text with choices (a satisfaction rating) on every channel: buttons or quick replies where the
/// platform has them, a numbered list where it does not; and each platform's answer read back.
@Suite struct ChoicesOutboundTests {
    static let rating = MessageContent(
        kind: .text, text: "How did we do?",
        choices: [.init(label: "👍 Good", payload: "rating:good"), .init(label: "👎 Bad", payload: "rating:bad")])

    func recent() -> ConversationContext {
        let now = Date()
        return ConversationContext(lastInboundAt: now.addingTimeInterval(-600), now: now)
    }

    @Test func lineQuickReplies() async throws {
        try await withStandIn(StandInPlatforms.line()) { standIn, transport in
            _ = try await TestAccounts.line(apiBaseURL: standIn.baseURL).send(outbound(Self.rating, to: "U1"), transport: transport)
            #expect(standIn.requests.first?.text == #"{"messages":[{"quickReply":{"items":[{"action":{"data":"rating:good","displayText":"👍 Good","label":"👍 Good","type":"postback"},"type":"action"},{"action":{"data":"rating:bad","displayText":"👎 Bad","label":"👎 Bad","type":"postback"},"type":"action"}]},"text":"How did we do?","type":"text"}],"to":"U1"}"#)
        }
    }

    @Test func whatsappReplyButtons() async throws {
        try await withStandIn(StandInPlatforms.whatsapp()) { standIn, transport in
            _ = try await TestAccounts.whatsapp(apiBaseURL: standIn.baseURL).send(outbound(Self.rating, to: "5511988887777", context: recent()), transport: transport)
            #expect(standIn.requests.first?.text == #"{"interactive":{"action":{"buttons":[{"reply":{"id":"rating:good","title":"👍 Good"},"type":"reply"},{"reply":{"id":"rating:bad","title":"👎 Bad"},"type":"reply"}]},"body":{"text":"How did we do?"},"type":"button"},"messaging_product":"whatsapp","recipient_type":"individual","to":"5511988887777","type":"interactive"}"#)
        }
    }

    @Test(arguments: [ChannelKind.messenger, .instagram])
    func metaQuickReplies(_ kind: ChannelKind) async throws {
        try await withStandIn(StandInPlatforms.messenger()) { standIn, transport in
            _ = try await TestAccounts.messenger(kind, apiBaseURL: standIn.baseURL).send(outbound(Self.rating, to: "6543210987654321", context: recent()), transport: transport)
            #expect(standIn.requests.first?.text == #"{"message":{"quick_replies":[{"content_type":"text","payload":"rating:good","title":"👍 Good"},{"content_type":"text","payload":"rating:bad","title":"👎 Bad"}],"text":"How did we do?"},"messaging_type":"RESPONSE","recipient":{"id":"6543210987654321"}}"#)
        }
    }

    @Test func smsAndWeChatNumberTheChoices() async throws {
        try await withStandIn(StandInPlatforms.sms()) { standIn, transport in
            _ = try await TestAccounts.sms(apiBaseURL: standIn.baseURL, statusCallbackURL: nil).send(outbound(Self.rating, to: "+15550001111"), transport: transport)
            let form = FormEncoding.decode(standIn.requests.first?.body ?? Data()) ?? []
            #expect(form.first { $0.0 == "Body" }?.1 == "How did we do?\n1 = 👍 Good\n2 = 👎 Bad")
        }
        try await withStandIn(StandInPlatforms.wechat()) { standIn, transport in
            _ = try await TestAccounts.wechat(apiBaseURL: standIn.baseURL).send(outbound(Self.rating, to: "oia2TjuEGTNoeX76QEjQNrcURxG8", context: recent()), transport: transport)
            #expect(standIn.requests(to: "/cgi-bin/message/custom/send").first?.text == #"{"msgtype":"text","text":{"content":"How did we do?\n1 = 👍 Good\n2 = 👎 Bad"},"touser":"oia2TjuEGTNoeX76QEjQNrcURxG8"}"#)
        }
    }

    @Test(arguments: [
        (MessageContent(kind: .postback, postback: "rating:bad"), "rating:bad"),  // LINE postback, Messenger quick reply, WhatsApp button
        (MessageContent.text("1"), "rating:good"), (MessageContent.text(" 2 "), "rating:bad"),  // SMS, WeChat
        (MessageContent.text("👍 good"), "rating:good"), (MessageContent.text("3"), nil), (MessageContent.text("thanks"), nil),
    ] as [(MessageContent, String?)])
    func answersPickAChoice(_ answer: MessageContent, _ payload: String?) {
        #expect(MessageContent.choice(answering: answer, from: Self.rating.choices ?? [])?.payload == payload)
    }
}

/// A customer's answer to numbered choices is any text they type: no number may trap.
@Suite struct ChoiceAnswerTests {
    let choices = [MessageContent.Choice(label: "Good", payload: "good"), MessageContent.Choice(label: "Bad", payload: "bad")]

    @Test(arguments: ["-9223372036854775808", "9223372036854775807", "0", "3", "-1", "1e9"])
    func numbersOutsideTheChoicesPickNothing(_ text: String) {
        #expect(MessageContent.choice(answering: .text(text), from: choices) == nil)
    }

    @Test func theNumberOrTheLabelPicks() {
        #expect(MessageContent.choice(answering: .text(" 2 "), from: choices)?.payload == "bad")
        #expect(MessageContent.choice(answering: .text("good"), from: choices)?.payload == "good")
        #expect(MessageContent.choice(answering: .text("1"), from: []) == nil)
    }
}
