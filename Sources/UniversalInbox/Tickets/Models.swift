import ChannelKit
import Foundation

/// Where a ticket stands. A customer message moves `pending` and `resolved` back to `open`;
/// `closed` is final (the customer's next message opens a new ticket).
public enum TicketStatus: String, Sendable, Codable, CaseIterable {
    case new, open, pending, resolved, closed, spam
}

public enum MessageDirection: String, Sendable, Codable {
    case inbound = "in"
    case outbound = "out"
}

/// A ticket as lists and the API show it.
public struct TicketSummary: Sendable, Equatable, Codable {
    public var id: Int64
    public var status: TicketStatus
    public var contact: ContactSummary
    /// Channels the conversation used, in the order they first appeared.
    public var channels: [String]
    public var createdAt: Date
    public var updatedAt: Date
    public var resolvedAt: Date?
    /// The name of the agent (or console user) the ticket is assigned to, if any.
    public var assignee: String?
    public var agentId: Int64?
    public var departmentId: Int64?
    public var priority: TicketPriority
    public var tags: [String]
    /// Why the ticket was resolved, for reports (internal; the customer never sees it).
    public var resolutionReason: ResolutionReason?
    /// The ticket this one was merged into.
    public var mergedInto: Int64?
    /// Waiting for automatic distribution since.
    public var queuedAt: Date?
    /// The id of the newest message: send it back with a reply to detect a collision.
    public var version: Int64
    /// For the agent asking: a customer message they have not read (absent for the admin token).
    public var unread: Bool?
    /// Custom ticket field values by key.
    public var fields: [String: String]
    /// The newest message, so a ticket list can show a preview without loading the conversation.
    public var lastMessage: LastMessage? = nil
    /// The customer's oldest message since the last reply: how long they have waited (nil when answered).
    public var waitingSince: Date? = nil
    /// How long the agent may still answer on each of the contact's identities (one ticket's
    /// answer only, not lists).
    public var replyWindows: [TicketReplyWindow]? = nil

    public struct LastMessage: Sendable, Equatable, Codable {
        public var direction: String
        /// The one-line rendering of the message (as `Message.text`).
        public var text: String
        public var createdAt: Date

        public init(direction: String, text: String, createdAt: Date) {
            self.direction = direction
            self.text = text
            self.createdAt = createdAt
        }
    }

    /// Public for the stores outside this module (`TicketQueryStore`).
    public init(
        id: Int64, status: TicketStatus, contact: ContactSummary, channels: [String], createdAt: Date, updatedAt: Date, resolvedAt: Date?,
        assignee: String?, agentId: Int64?, departmentId: Int64?, priority: TicketPriority, tags: [String],
        resolutionReason: ResolutionReason?, mergedInto: Int64?, queuedAt: Date?, version: Int64, unread: Bool?, fields: [String: String],
        lastMessage: LastMessage? = nil, waitingSince: Date? = nil, replyWindows: [TicketReplyWindow]? = nil
    ) {
        self.id = id
        self.status = status
        self.contact = contact
        self.channels = channels
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.resolvedAt = resolvedAt
        self.assignee = assignee
        self.agentId = agentId
        self.departmentId = departmentId
        self.priority = priority
        self.tags = tags
        self.resolutionReason = resolutionReason
        self.mergedInto = mergedInto
        self.queuedAt = queuedAt
        self.version = version
        self.unread = unread
        self.fields = fields
        self.lastMessage = lastMessage
        self.waitingSince = waitingSince
        self.replyWindows = replyWindows
    }
}

public enum TicketPriority: String, Sendable, Codable, CaseIterable {
    case low, normal, high, urgent
}

/// Internal reasons beside the statuses, for reports.
public enum ResolutionReason: String, Sendable, Codable, CaseIterable {
    case spam, duplicate, test
    case solvedByChat = "solved by chat"
    case solvedByPhone = "solved by phone"
    case other
}

public struct ContactSummary: Sendable, Equatable, Codable {
    public var id: Int64
    public var displayName: String?

    public init(id: Int64, displayName: String?) {
        self.id = id
        self.displayName = displayName
    }
}

/// A contact with all its channel identities.
public struct ContactDetail: Sendable, Equatable, Codable {
    public var id: Int64
    public var displayName: String?
    public var email: String?
    /// Custom contact field values by key.
    public var fields: [String: String]
    /// The contact's own tags (not its tickets'), sorted.
    public var tags: [String]
    public var identities: [Identity]
    public var createdAt: Date
    /// The customer's answered satisfaction ratings, newest first, on the tickets the caller may
    /// read: only `GET /contacts/{id}` fills them in (nil elsewhere, so left out of the JSON).
    public var ratings: [Rated]?
    /// The contact's tickets counted as the caller reaches them: only `GET /contacts/{id}` fills it in.
    public var ticketAccess: ContactTicketAccess?

    public init(
        id: Int64, displayName: String?, email: String?, fields: [String: String], tags: [String], identities: [Identity], createdAt: Date,
        ratings: [Rated]? = nil, ticketAccess: ContactTicketAccess? = nil
    ) {
        self.id = id
        self.displayName = displayName
        self.email = email
        self.fields = fields
        self.tags = tags
        self.identities = identities
        self.createdAt = createdAt
        self.ratings = ratings
        self.ticketAccess = ticketAccess
    }

    /// One satisfaction answer: the ticket it rates, the answer (`good`/`bad`) and when it came.
    public struct Rated: Sendable, Equatable, Codable {
        public var ticketId: Int64
        public var rating: String
        public var answeredAt: Date
    }

    public struct Identity: Sendable, Equatable, Codable {
        public var channel: String
        public var account: String
        public var platformUserId: String
        public var displayName: String?
        public var phone: String?
        public var lastInboundAt: Date?
        public var blocked: Bool

        public init(
            channel: String, account: String, platformUserId: String, displayName: String?, phone: String?, lastInboundAt: Date?, blocked: Bool
        ) {
            self.channel = channel
            self.account = account
            self.platformUserId = platformUserId
            self.displayName = displayName
            self.phone = phone
            self.lastInboundAt = lastInboundAt
            self.blocked = blocked
        }
    }
}

/// A message in a ticket, either direction.
public struct StoredMessage: Sendable, Equatable, Codable {
    public var id: Int64
    public var ticketId: Int64
    public var direction: MessageDirection
    public var channel: String
    public var account: String
    public var content: MessageContent
    public var text: String
    /// `received` for inbound; `queued`, `sent`, `delivered`, `read` or `failed` for outbound.
    public var status: String
    public var platformMessageId: String?
    public var failureCode: String?
    public var failureReason: String?
    /// SMS parts of an outbound SMS, once sent.
    public var segments: MessageSegments?
    /// Who wrote an outbound message (e.g. `slack:U0AGENT`), when known.
    public var author: String?
    public var attachments: [AttachmentInfo]
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64, ticketId: Int64, direction: MessageDirection, channel: String, account: String, content: MessageContent, text: String,
        status: String, platformMessageId: String?, failureCode: String?, failureReason: String?, segments: MessageSegments?,
        author: String?, attachments: [AttachmentInfo], createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.ticketId = ticketId
        self.direction = direction
        self.channel = channel
        self.account = account
        self.content = content
        self.text = text
        self.status = status
        self.platformMessageId = platformMessageId
        self.failureCode = failureCode
        self.failureReason = failureReason
        self.segments = segments
        self.author = author
        self.attachments = attachments
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A media file of an inbound message, downloaded from the platform in the background.
public struct AttachmentInfo: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable { case pending, stored, failed }
    public var id: Int64
    public var messageId: Int64
    public var status: Status
    public var mimeType: String?
    public var size: Int?
    public var fileName: String?
    /// Local file path once stored.
    public var path: String?
    public var failureReason: String?

    public init(
        id: Int64, messageId: Int64, status: Status, mimeType: String?, size: Int?, fileName: String?, path: String?, failureReason: String?
    ) {
        self.id = id
        self.messageId = messageId
        self.status = status
        self.mimeType = mimeType
        self.size = size
        self.fileName = fileName
        self.path = path
        self.failureReason = failureReason
    }
}

/// What one webhook's events did.
public struct IngestResult: Sendable, Equatable {
    public var stored: Int = 0
    public var duplicates: Int = 0
    /// Events kept as unreadable (not counting ones already kept from an earlier delivery).
    public var unreadable: Int = 0
    public var events: [InboxEvent] = []
    public init() {}
}

/// Something that happened in the inbox, published after it was committed.
public enum InboxEvent: Sendable, Equatable {
    case ticketOpened(ticketId: Int64)
    case messageReceived(ticketId: Int64, messageId: Int64)
    case ticketStatusChanged(ticketId: Int64, status: TicketStatus)
    case messageQueued(ticketId: Int64, messageId: Int64)
    case messageStatusChanged(messageId: Int64, status: DeliveryStatus)
    case followUpQueued
    /// An agent went online, resumed distribution or gained capacity: queued tickets may go out.
    case agentAvailable(agentId: Int64)
    /// A ticket was given to an agent (claimed, transferred or distributed).
    case ticketAssigned(ticketId: Int64, agentId: Int64)
    /// A ticket joined a department's queue for automatic distribution.
    case ticketQueued(ticketId: Int64)
    /// Outgoing webhook deliveries are waiting.
    case webhookEventsQueued
    /// A rule asked to tell these agents about a ticket.
    case agentsNotified(ticketId: Int64, agentIds: [Int64], text: String)
    /// A campaign was started, paused, resumed or cancelled.
    case campaignChanged(campaignId: Int64)
    /// An agent's tokens were revoked, or its password, role, restrictions or activation changed:
    /// open live sockets re-check their token and rights.
    case agentAccessChanged(agentId: Int64)
}

/// Refusals of inbox operations, mapped by the API onto HTTP statuses.
public enum InboxError: Error, Sendable, Equatable {
    case notFound(String)
    case conflict(code: String, message: String)
    /// The request breaks a rule openapi.yaml states as a schema (a length, a pattern, a range): 400.
    case invalid(code: String, message: String)
    /// The request is well formed but refers to what does not exist or breaks a rule the document
    /// states in words (a time zone, a regular expression, fields that go together): 422.
    case unprocessable(code: String, message: String)
    case refused(SendError)
    /// The actor's role or restrictions do not allow the operation.
    case forbidden(code: String, message: String)
}

extension InboxError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .notFound(let what): "\(what) does not exist"
        case .conflict(let code, let message), .invalid(let code, let message), .unprocessable(let code, let message), .forbidden(let code, let message):
            "\(code): \(message)"
        case .refused(let error): "\(error.code): \(error.reason)"
        }
    }
}
