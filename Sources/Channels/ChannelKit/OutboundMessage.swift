import Foundation

/// A message ready to leave on a channel, with what the adapter needs to choose how to send it.
public struct OutboundMessage: Sendable, Equatable {
    /// Our message id; stable across retries, used as the platform idempotency key where one exists.
    public var id: String
    /// The platform's user id of the customer.
    public var recipient: String
    public var content: MessageContent
    public var context: ConversationContext
    /// The subject line, where the channel has one (e-mail).
    public var subject: String?
    /// The conversation a reply belongs to, where the channel threads messages (e-mail): the
    /// ticket's platform message ids nearest first, its number and subject.
    public var thread: MessageThread?
    /// Sent by the bridge itself (an acknowledgement, a rule's reply, a survey), not by a person:
    /// e-mail marks it `Auto-Submitted: auto-replied` (RFC 3834) so other systems do not answer it.
    public var automatic: Bool

    public init(
        id: String, recipient: String, content: MessageContent, context: ConversationContext, subject: String? = nil, thread: MessageThread? = nil,
        automatic: Bool = false
    ) {
        self.id = id
        self.recipient = recipient
        self.content = content
        self.context = context
        self.subject = subject
        self.thread = thread
        self.automatic = automatic
    }
}

/// What the inbox knows about the conversation that decides how (or whether) a message may go out.
public struct ConversationContext: Sendable, Equatable {
    /// When the customer last wrote on this channel (window rules).
    public var lastInboundAt: Date?
    /// An unused reply token and when the platform issued it (LINE).
    public var replyToken: String?
    public var replyTokenIssuedAt: Date?
    /// The customer blocked or unfollowed the account.
    public var recipientBlocked: Bool
    /// The time the send is attempted.
    public var now: Date
    /// An agent's reply, or a broadcast (which some platforms treat differently).
    public var purpose: Purpose

    public init(
        lastInboundAt: Date? = nil, replyToken: String? = nil, replyTokenIssuedAt: Date? = nil,
        recipientBlocked: Bool = false, now: Date = Date(), purpose: Purpose = .reply
    ) {
        self.lastInboundAt = lastInboundAt
        self.replyToken = replyToken
        self.replyTokenIssuedAt = replyTokenIssuedAt
        self.recipientBlocked = recipientBlocked
        self.now = now
        self.purpose = purpose
    }

    /// Why a message goes out.
    public enum Purpose: Sendable, Equatable {
        /// An agent (or the bridge on the agent's behalf) answers the customer.
        case reply
        /// A campaign message. `messageTag` is the Meta message tag (e.g. `ACCOUNT_UPDATE`) that may
        /// carry it outside Messenger's 24-hour window; never for promotions.
        case broadcast(messageTag: String?)

        public var isBroadcast: Bool {
            if case .broadcast = self { true } else { false }
        }
    }
}

/// What the platform answered to an accepted send.
public struct SendReceipt: Sendable, Equatable {
    /// The platform's id for the message, matched later against status receipts.
    public var platformMessageId: String?
    /// The reply token was consumed by this send.
    public var usedReplyToken: Bool
    /// What the message cost in SMS parts, where the channel counts them.
    public var segments: MessageSegments?

    public init(platformMessageId: String?, usedReplyToken: Bool = false, segments: MessageSegments? = nil) {
        self.platformMessageId = platformMessageId
        self.usedReplyToken = usedReplyToken
        self.segments = segments
    }
}

/// The SMS parts a message was split into and their encoding (`gsm7` or `ucs2`).
public struct MessageSegments: Sendable, Equatable, Codable {
    public var count: Int
    public var encoding: String

    public init(count: Int, encoding: String) {
        self.count = count
        self.encoding = encoding
    }
}

/// A media file fetched from a platform.
public struct DownloadedMedia: Sendable {
    public var data: Data
    public var mimeType: String?

    public init(data: Data, mimeType: String?) {
        self.data = data
        self.mimeType = mimeType
    }
}

/// A customer's public profile, where the platform has a profile API.
public struct ContactProfile: Sendable, Equatable {
    public var displayName: String

    public init(displayName: String) {
        self.displayName = displayName
    }
}
