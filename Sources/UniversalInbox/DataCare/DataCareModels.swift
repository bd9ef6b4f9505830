import Foundation

/// How long customers' conversations are kept, in days; nil keeps them forever (the default, so
/// nothing is ever deleted until an owner decides).
public struct RetentionSettings: Codable, Sendable, Equatable {
    /// After this many days a message's text and content are cleared (the message stays as a
    /// placeholder, so tickets and reports keep their shape).
    public var messagesDays: Int?
    /// After this many days an attachment's row and file are deleted.
    public var attachmentsDays: Int?

    public init(messagesDays: Int? = nil, attachmentsDays: Int? = nil) {
        self.messagesDays = messagesDays
        self.attachmentsDays = attachmentsDays
    }

    /// The longest period accepted (100 years): a period is a number of days a person chose.
    public static let maxDays = 36_500
}

/// What one retention run did.
public struct RetentionOutcome: Sendable, Equatable {
    public var messagesCleared: Int
    public var attachmentsDeleted: Int
    /// The deleted attachments' files, for the caller to remove.
    public var files: [String]

    public init(messagesCleared: Int = 0, attachmentsDeleted: Int = 0, files: [String] = []) {
        self.messagesCleared = messagesCleared
        self.attachmentsDeleted = attachmentsDeleted
        self.files = files
    }
}

/// What erasing a contact deleted.
public struct ErasureOutcome: Sendable, Equatable {
    public var contactId: Int64
    public var tickets: Int
    public var messages: Int
    public var attachments: Int
    /// The attachments' files, for the caller to remove.
    public var files: [String]

    public init(contactId: Int64, tickets: Int, messages: Int, attachments: Int, files: [String]) {
        self.contactId = contactId
        self.tickets = tickets
        self.messages = messages
        self.attachments = attachments
        self.files = files
    }
}

/// One cell of an exported row: the databases hold integers, reals, text and NULL.
public enum ExportValue: Sendable, Equatable, Codable {
    case int(Int64), real(Double), text(String), null

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .real(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null } else if let int = try? container.decode(Int64.self) { self = .int(int) } else if let real = try? container.decode(Double.self) {
            self = .real(real)
        } else { self = .text(try container.decode(String.self)) }
    }
}

/// How many items wait in each queue.
public struct QueueDepths: Codable, Sendable, Equatable {
    public var outbox: Int
    public var jobs: Int
    public var alertDeliveries: Int
    public var webhookDeliveries: Int
    public var campaignRecipients: Int

    public init(outbox: Int, jobs: Int, alertDeliveries: Int, webhookDeliveries: Int, campaignRecipients: Int) {
        self.outbox = outbox
        self.jobs = jobs
        self.alertDeliveries = alertDeliveries
        self.webhookDeliveries = webhookDeliveries
        self.campaignRecipients = campaignRecipients
    }
}

/// A recent error: a send that failed for good, or a platform event that could not be read.
public struct RecentError: Codable, Sendable, Equatable {
    /// `send_failed` or `unreadable_event`.
    public var kind: String
    public var at: Date
    /// `kind/id` of the channel account.
    public var account: String
    /// The platform's or the bridge's reason (no customer text).
    public var reason: String
    /// The failed message's ticket, for a link to it.
    public var ticketId: Int64?

    public init(kind: String, at: Date, account: String, reason: String, ticketId: Int64?) {
        self.kind = kind
        self.at = at
        self.account = account
        self.reason = reason
        self.ticketId = ticketId
    }
}

/// The database's side of the health page.
public struct SystemStatus: Sendable, Equatable {
    /// Bytes on disk (SQLite: the file and its WAL; PostgreSQL: `pg_database_size`).
    public var databaseBytes: Int64
    public var queues: QueueDepths
    /// Newest first, send failures and unreadable events together.
    public var recentErrors: [RecentError]

    public init(databaseBytes: Int64, queues: QueueDepths, recentErrors: [RecentError]) {
        self.databaseBytes = databaseBytes
        self.queues = queues
        self.recentErrors = recentErrors
    }
}

/// An audit log entry to record: who changed what, through which route.
public struct NewAuditEntry: Sendable, Equatable {
    public var at: Date
    public var actorId: Int64?
    public var actorName: String
    public var actorRole: String
    public var method: String
    /// The route as registered (`/api/v1/rules/{id}`), so entries group by operation.
    public var route: String
    public var targetId: String?
    /// Short and free of secrets (`AuditSummary`).
    public var summary: String
    public var status: Int

    public init(at: Date, actorId: Int64?, actorName: String, actorRole: String, method: String, route: String, targetId: String?, summary: String, status: Int) {
        self.at = at
        self.actorId = actorId
        self.actorName = actorName
        self.actorRole = actorRole
        self.method = method
        self.route = route
        self.targetId = targetId
        self.summary = summary
        self.status = status
    }
}

/// A recorded audit log entry.
public struct AuditEntry: Codable, Sendable, Equatable {
    public var id: Int64
    public var at: Date
    public var actorId: Int64?
    public var actorName: String
    public var actorRole: String
    public var method: String
    public var route: String
    public var targetId: String?
    public var summary: String
    public var status: Int

    public init(id: Int64, _ entry: NewAuditEntry) {
        self.id = id
        at = entry.at
        actorId = entry.actorId
        actorName = entry.actorName
        actorRole = entry.actorRole
        method = entry.method
        route = entry.route
        targetId = entry.targetId
        summary = entry.summary
        status = entry.status
    }
}
