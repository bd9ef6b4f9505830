import ChannelKit
import Email
import Foundation
import UniversalInbox

/// Alerts by e-mail to the agent's login address, through the relay (within its rate limit,
/// shared with e-mail campaigns).
public struct EmailAlertDelivery: AlertDelivery {
    public let mailer: SMTPMailer
    public let bucket: TokenBucket?

    public init(mailer: SMTPMailer, bucket: TokenBucket?) {
        self.mailer = mailer
        self.bucket = bucket
    }

    public func deliver(_ alert: PendingAlert) async throws -> Bool {
        do {
            try await mailer.send(EmailMessage(
                from: mailer.settings.from, to: alert.email, subject: alert.title,
                text: alert.text + "\n\nOpen the inbox to answer. Change which alerts you get under your alert settings.", id: "alert-\(alert.id)"))
        } catch let error as EmailError {
            throw SendError.permanent("invalid_email", error.description)
        }
        return true
    }
}
