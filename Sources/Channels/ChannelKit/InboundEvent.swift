import Foundation

/// One normalised event from a platform webhook.
///
/// `kind` says which optional fields are set:
/// - `message`: `sender` and `message` (a customer wrote to us)
/// - `follow` / `unfollow`: `sender` (the customer added or blocked the account)
/// - `receipt`: `receipt` (the platform reports the state of a message we sent)
///
/// `eventId` is the platform's own id for the event; the inbox dedupes on it per account.
public struct InboundEvent: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case message, follow, unfollow, receipt
    }

    public var kind: Kind
    public var eventId: String
    public var occurredAt: Date
    public var sender: Sender?
    public var message: InboundMessage?
    public var receipt: DeliveryReceipt?

    public init(
        kind: Kind, eventId: String, occurredAt: Date, sender: Sender? = nil,
        message: InboundMessage? = nil, receipt: DeliveryReceipt? = nil
    ) {
        self.kind = kind
        self.eventId = eventId
        self.occurredAt = occurredAt
        self.sender = sender
        self.message = message
        self.receipt = receipt
    }
}

/// The customer as the platform identifies them.
public struct Sender: Sendable, Equatable, Codable {
    /// The platform's user id (LINE userId, WhatsApp wa_id).
    public var id: String
    public var displayName: String?
    /// E.164 digits where the platform's id is a phone number.
    public var phone: String?

    public init(id: String, displayName: String? = nil, phone: String? = nil) {
        self.id = id
        self.displayName = displayName
        self.phone = phone
    }
}

/// A customer message.
public struct InboundMessage: Sendable, Equatable, Codable {
    /// The platform's message id.
    public var id: String
    public var content: MessageContent
    /// A short-lived token that lets the first reply go out free of quota (LINE).
    public var replyToken: String?
    /// Where a channel with explicit conversations (e-mail) files the message: the ticket of a
    /// message it answers, else a new ticket. Nil: the customer's current ticket, as on chat apps.
    public var thread: MessageThread?

    public init(id: String, content: MessageContent, replyToken: String? = nil, thread: MessageThread? = nil) {
        self.id = id
        self.content = content
        self.replyToken = replyToken
        self.thread = thread
    }
}

/// What a message answers (e-mail's In-Reply-To and References, the subject's `[#123]`): on a
/// received message, for the ingest to find its ticket in the same transaction as it files it; on
/// an outbound one, for the channel to thread the reply into the customer's conversation.
public struct MessageThread: Sendable, Equatable, Codable {
    /// Platform message ids (Message-IDs, ours and the customer's), nearest first.
    public var references: [String]
    /// A ticket number the message names (our replies' subject token); honoured only for a
    /// ticket of the same customer, since anyone can type one.
    public var ticketNumber: Int64?
    /// The conversation's subject (a mail's Subject): kept as the subject of a ticket the message
    /// opens; on an outbound message, the subject of the ticket it answers.
    public var subject: String?
    /// The longest subject kept, in code points (a Subject header may be any length).
    public static let maxSubjectLength = 250

    public init(references: [String], ticketNumber: Int64? = nil, subject: String? = nil) {
        self.references = references
        self.ticketNumber = ticketNumber
        self.subject = subject
    }
}

/// Delivery state of an outbound message. States only move forward; `failed` is final.
public enum DeliveryStatus: String, Sendable, Codable, CaseIterable {
    case queued, sent, delivered, read, failed

    /// Order in which states may replace each other.
    public var rank: Int {
        switch self {
        case .queued: 0
        case .sent: 1
        case .delivered: 2
        case .read: 3
        case .failed: 4
        }
    }
}

/// The platform's report on our outbound messages: one message by its platform id, or (`upTo`)
/// every message to the event's `sender` sent up to a time (Messenger's read/delivery watermarks).
public struct DeliveryReceipt: Sendable, Equatable, Codable {
    /// The platform's id of our message, as returned when we sent it.
    public var messageId: String?
    /// A watermark: all messages to the customer sent at or before this time.
    public var upTo: Date?
    public var status: DeliveryStatus
    public var errorCode: String?
    public var errorMessage: String?

    public init(messageId: String? = nil, upTo: Date? = nil, status: DeliveryStatus, errorCode: String? = nil, errorMessage: String? = nil) {
        self.messageId = messageId
        self.upTo = upTo
        self.status = status
        self.errorCode = errorCode
        self.errorMessage = errorMessage
    }
}
