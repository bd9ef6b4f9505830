import Foundation
import Hummingbird
import UniversalInbox

/// The console's Health and Data sections (owners and admins): `GET /api/v1/system`, the retention
/// periods, erasing a contact, exporting a contact's data, and the audit log.
struct DataController: Sendable {
    let inbox: Inbox
    /// `sqlite` or `postgresql`.
    let databaseKind: String
    /// When this process started serving (uptime is per process: each has its own).
    let startedAt: Date
    let clock: @Sendable () -> Date

    /// The bridge's version, as openapi.yaml's `info.version` says it.
    static let version = "1.0.0"

    func addRoutes(to group: RouterGroup<BridgeRequestContext>) {
        group.get("system") { _, context in
            _ = try context.requireSettingsManager()
            return JSONResponse.make(SystemDTO(try await inbox.systemStatus(), version: Self.version, database: databaseKind, startedAt: startedAt, now: clock()))
        }
        group.get("data/retention") { _, context in
            _ = try context.requireSettingsManager()
            return JSONResponse.make(RetentionDTO(try await inbox.retention()))
        }
        group.put("data/retention") { request, context in
            _ = try context.requireSettingsManager()
            let body = try await request.decode(RetentionBody.self)
            return JSONResponse.make(RetentionDTO(try await inbox.setRetention(body.settings)))
        }
        group.post("data/erasures") { request, context in
            struct Body: Decodable { var contactId: Int64 }
            _ = try context.requireSettingsManager()
            let body = try await request.decode(Body.self)
            guard body.contactId > 0 else { throw APIError.badRequest("invalid_id", "ids are positive whole numbers") }
            let outcome = try await inbox.eraseContact(body.contactId)
            return JSONResponse.make(ErasureDTO(contactId: outcome.contactId, tickets: outcome.tickets, messages: outcome.messages, attachments: outcome.attachments))
        }
        group.get("data/contacts/:id/export") { _, context in
            _ = try context.requireSettingsManager()
            let id = try context.id()
            let data = try await inbox.exportContact(id)
            var response = JSONResponse.text(String(decoding: data, as: UTF8.self), contentType: "application/json")
            response.headers[.contentDisposition] = "attachment; filename=\"contact-\(id).json\""
            response.headers[.cacheControl] = "no-store"
            return response
        }
        group.get("audit-log") { request, context in
            _ = try context.requireSettingsManager()
            let params = try request.query()
            let limit = Int(try params.integer("limit", in: 1...500) ?? 100)
            return JSONResponse.make(ItemsDTO(items: try await inbox.auditLog(limit: limit, before: try params.id("before"))))
        }
    }
}

/// `PUT /api/v1/data/retention`: both periods, each a number of days or null to keep forever.
struct RetentionBody: Decodable, NullableFields {
    static var nullableFields: Set<String> { ["messagesDays", "attachmentsDays"] }
    var settings: RetentionSettings
    enum Keys: String, CodingKey { case messagesDays, attachmentsDays }
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        settings = RetentionSettings(
            messagesDays: try container.decode(Int?.self, forKey: .messagesDays),
            attachmentsDays: try container.decode(Int?.self, forKey: .attachmentsDays))
    }
}

/// Encodes both periods, null included (a missing key would read as "not set" to a client).
struct RetentionDTO: Encodable {
    var settings: RetentionSettings
    init(_ settings: RetentionSettings) { self.settings = settings }
    enum Keys: String, CodingKey { case messagesDays, attachmentsDays }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(settings.messagesDays, forKey: .messagesDays)
        try container.encode(settings.attachmentsDays, forKey: .attachmentsDays)
    }
}

struct ErasureDTO: Encodable {
    var contactId: Int64
    var tickets: Int
    var messages: Int
    var attachments: Int
}

struct SystemDTO: Encodable {
    var version: String
    var database: String
    var startedAt: Date
    var uptimeSeconds: Int64
    var databaseBytes: Int64
    var queues: QueueDepths
    var recentErrors: [RecentError]
    var metricsPath = "/metrics"

    init(_ status: SystemStatus, version: String, database: String, startedAt: Date, now: Date) {
        self.version = version
        self.database = database
        self.startedAt = startedAt
        uptimeSeconds = max(0, Int64(now.timeIntervalSince(startedAt)))
        databaseBytes = status.databaseBytes
        queues = status.queues
        recentErrors = status.recentErrors
    }
}
