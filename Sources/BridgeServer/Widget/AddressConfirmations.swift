import ChannelKit
import Email
import Foundation
import Hummingbird
import Logging
import UniversalInbox
import WebchatChannel

/// Confirming an address a website visitor typed (the offline form): the bridge mails it a code
/// (`AddressConfirmation`), and the visitor types the code into the widget. Only the visitor who
/// asked can use it and only the address's reader knows it, so the address then makes the visitor
/// the customer who has it (`Inbox.confirmVisitorAddress`). A link would not do: whoever clicks it
/// is not necessarily the visitor, so a stranger who typed someone's address would be joined to
/// them by that person's one click.
///
/// It mails addresses strangers type, so it is limited (`WidgetThrottle.confirmation`: one mail an
/// hour to an address whoever asks, two to a visitor, ten from a client address) and only to plain
/// addresses (`name <a@b>` forms would be one inbox under many keys). Without the SMTP relay
/// nothing is mailed and the address stays a note for the agents.
struct AddressConfirmations: Sendable {
    let mailer: SMTPMailer?
    let throttle: WidgetThrottle
    let logger: Logger
    var clock: @Sendable () -> Date = { Date() }

    /// Mails `address` the code that confirms it is the visitor's. False when it did not go (no
    /// relay, a limit reached, or the relay failed: logged).
    func send(_ adapter: WebchatAdapter, visitorId: String, address: String, client: String?) async -> Bool {
        guard let mailer, WidgetController.isPlainAddress(address) else { return false }
        do {
            try await throttle.confirmation(account: adapter.account.key, visitorId: visitorId, recipient: address, address: client)
        } catch is WidgetThrottle.Limited {
            return false
        } catch {
            logger.warning("widget confirmation mail not sent: its limits could not be checked", metadata: ["channel.account": "\(adapter.account.key)"])
            return false
        }
        let code = AddressConfirmation.code(visitorId: visitorId, address: address, at: clock(), secret: adapter.configuration.visitorSecret)
        let name = adapter.configuration.name
        let text = """
            Your code for the chat on the website of \(name): \(code)
            Type it in the chat to confirm this address is yours. It works for 12 hours.

            \(name) のウェブサイトのチャットの確認コード: \(code)
            ご本人のアドレスであることを確認するため、チャットにこのコードをご入力ください（12時間有効）。

            If you did not ask for it, ignore this e-mail: nothing happens without the code. Never give it to anyone.
            お心当たりがない場合は、このメールを破棄してください。コードは誰にも教えないでください。
            """
        do {
            try await mailer.send(EmailMessage(
                from: mailer.settings.from, to: address, subject: "\(name): your confirmation code / 確認コード", text: text,
                id: "confirm-" + UUID().uuidString, autoSubmitted: true))
            return true
        } catch {
            logger.warning("widget confirmation mail not sent", metadata: ["channel.account": "\(adapter.account.key)", "error": "\(error)"])
            return false
        }
    }
}

/// `POST confirm {email, code}`: the visitor types the code mailed to the address; it holds
/// (`AddressConfirmation.holds`) → the visitor is confirmed as the address's owner. Five tries an
/// hour per visitor and ten per address, whoever tries (429); a wrong code is 400 `wrong_code` and
/// changes nothing.
extension WidgetController {
    struct ConfirmBody: Decodable {
        var email: String
        var code: String
    }

    func confirm(_ request: Request, _ context: BridgeRequestContext) async throws -> Response {
        let (adapter, visitorId) = try await visitor(request, context)
        let body = try await request.decode(ConfirmBody.self, maxBytes: 4096)
        let email = body.email.trimmingCharacters(in: .whitespaces)
        guard Self.isPlainAddress(email) else { throw APIError.badRequest("invalid_email", "\(body.email) is not an e-mail address") }
        do {
            try await throttle.codeAttempt(account: adapter.account.key, visitorId: visitorId, recipient: email)
        } catch let error as WidgetThrottle.Limited {
            throw Self.limited(error)
        }
        let code = body.code.filter { !$0.isWhitespace }
        guard AddressConfirmation.holds(code, visitorId: visitorId, address: email, at: clock(), secret: adapter.configuration.visitorSecret) else {
            throw APIError.badRequest("wrong_code", "that is not the code mailed to \(email) for this chat (or it is older than 12 hours)")
        }
        let contact = try await inbox.confirmVisitorAddress(account: adapter.account.key, visitorId: visitorId, email: email)
        context.logger.info("widget address confirmed", metadata: ["channel.account": "\(adapter.account.key)", "contact": "\(contact.map(String.init) ?? "none")"])
        return JSONResponse.make(["confirmed": contact != nil])
    }
}
