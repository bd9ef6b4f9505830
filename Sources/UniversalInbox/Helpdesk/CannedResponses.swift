import Foundation
import GRDB

/// A saved answer an agent inserts with `#shortcut`. Global, a department's, or one agent's own.
/// Its text may use `{{contact.name}}`, `{{contact.email}}`, `{{contact.field.KEY}}`,
/// `{{agent.name}}`, `{{agent.email}}`, `{{ticket.id}}`, `{{ticket.field.KEY}}`.
public struct CannedResponse: Sendable, Equatable, Codable {
    public var id: Int64
    public var shortcut: String
    public var title: String
    public var text: String
    public var agentId: Int64?
    public var departmentId: Int64?
}

/// `{{name}}` placeholders filled from a dictionary; `{{name|fallback}}` when the value may be unknown
/// (a customer whose name the platform has not given yet).
public enum TemplateText {
    static let placeholder = try! NSRegularExpression(pattern: #"\{\{\s*([A-Za-z0-9_.]+)\s*(?:\|([^}]*))?\}\}"#)

    /// The placeholder names used in `text`.
    public static func variables(in text: String) -> [String] {
        placeholder.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    /// `text` with each placeholder replaced by its value (its fallback, or empty, when unknown).
    public static func fill(_ text: String, _ values: [String: String]) -> String {
        var result = ""
        var last = text.startIndex
        for match in placeholder.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let whole = Range(match.range, in: text), let name = Range(match.range(at: 1), in: text) else { continue }
            let fallback = Range(match.range(at: 2), in: text).map { text[$0].trimmingCharacters(in: .whitespaces) } ?? ""
            result += text[last..<whole.lowerBound]
            result += values[String(text[name])].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
            last = whole.upperBound
        }
        return result + text[last...]
    }
}

extension Inbox {
    public func createCannedResponse(
        shortcut: String, title: String, text: String, agentId: Int64?, departmentId: Int64?
    ) async throws -> CannedResponse {
        let shortcut = try Self.shortcut(shortcut)
        guard TextRules.isName(text, maxLength: 4096) else {
            throw InboxError.invalid(code: "invalid_text", message: "a canned response is 1 to 4096 characters, not all blank")
        }
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let unknown = TemplateText.variables(in: text).first(where: { !Self.isCannedVariable($0) }) {
            throw InboxError.unprocessable(
                code: "unknown_variable",
                message: "{{\(unknown)}} is not a variable; use contact.name, contact.email, contact.field.KEY, agent.name, agent.email, ticket.id, ticket.field.KEY")
        }
        let now = clock().ms
        let id: Int64 = try await database.pool.write { db in
            if let departmentId, try Bool.fetchOne(db, sql: "SELECT 1 FROM departments WHERE id = ?", arguments: [departmentId]) == nil {
                throw InboxError.unprocessable(code: "no_such_department", message: "department \(departmentId) does not exist")
            }
            if try Bool.fetchOne(db, sql: """
                SELECT 1 FROM canned_responses WHERE shortcut = ? AND coalesce(agent_id, 0) = ? AND coalesce(department_id, 0) = ?
                """, arguments: [shortcut, agentId ?? 0, departmentId ?? 0]) != nil {
                throw InboxError.conflict(code: "shortcut_taken", message: "#\(shortcut) already exists here")
            }
            try db.execute(sql: """
                INSERT INTO canned_responses (shortcut, title, text, agent_id, department_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [shortcut, title.isEmpty ? shortcut : title, text, agentId, departmentId, now])
            return db.lastInsertedRowID
        }
        return CannedResponse(id: id, shortcut: shortcut, title: title.isEmpty ? shortcut : title, text: text, agentId: agentId, departmentId: departmentId)
    }

    /// The canned responses an actor may use: global ones, its departments' and its own.
    public func cannedResponses(for actor: Caller) async throws -> [CannedResponse] {
        try await database.pool.read { db in try Self.canned(db, for: actor) }
    }

    public func deleteCannedResponse(id: Int64, by actor: Caller) async throws {
        try await database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT agent_id FROM canned_responses WHERE id = ?", arguments: [id]) else {
                throw InboxError.notFound("canned response \(id)")
            }
            let owner: Int64? = row["agent_id"]
            guard actor.managesSettings || (owner != nil && owner == actor.agentId) else {
                throw InboxError.forbidden(code: "not_yours", message: "agents may delete only their own canned responses")
            }
            try db.execute(sql: "DELETE FROM canned_responses WHERE id = ?", arguments: [id])
        }
    }

    /// The text of `#shortcut` for a ticket, variables filled in. The actor's own response wins over
    /// the ticket's department's, which wins over a global one.
    public func renderCannedResponse(_ shortcut: String, ticketId: Int64, by actor: Caller) async throws -> String {
        let shortcut = try Self.shortcut(shortcut)
        return try await database.pool.read { db in
            guard let ticket = try Row.fetchOne(db, sql: "SELECT * FROM tickets WHERE id = ?", arguments: [ticketId]) else {
                throw InboxError.notFound("ticket \(ticketId)")
            }
            let department: Int64? = ticket["department_id"]
            let candidates = try Self.canned(db, for: actor).filter { $0.shortcut == shortcut }
            guard
                let chosen = candidates.first(where: { $0.agentId != nil && $0.agentId == actor.agentId })
                    ?? candidates.first(where: { $0.departmentId != nil && $0.departmentId == department })
                    ?? candidates.first(where: { $0.departmentId != nil })
                    ?? candidates.first(where: { $0.agentId == nil && $0.departmentId == nil })
            else { throw InboxError.unprocessable(code: "no_such_canned_response", message: "there is no canned response #\(shortcut) for you") }
            return TemplateText.fill(chosen.text, try Self.templateValues(db, ticketId: ticketId, contactId: ticket["contact_id"], actor: actor))
        }
    }

    /// Values for `{{...}}` placeholders about a ticket, its contact and the acting agent.
    static func templateValues(_ db: Database, ticketId: Int64?, contactId: Int64, actor: Caller?) throws -> [String: String] {
        var values: [String: String] = [:]
        if let contact = try Row.fetchOne(db, sql: "SELECT display_name, email FROM contacts WHERE id = ?", arguments: [contactId]) {
            values["contact.name"] = contact["display_name"]
            values["contact.email"] = contact["email"]
        }
        for (key, value) in try fieldValues(db, scope: .contact, subject: contactId) { values["contact.field.\(key)"] = value }
        if let ticketId {
            values["ticket.id"] = String(ticketId)
            for (key, value) in try fieldValues(db, scope: .ticket, subject: ticketId) { values["ticket.field.\(key)"] = value }
        }
        if let actor {
            values["agent.name"] = actor.name
            if let id = actor.agentId { values["agent.email"] = try String.fetchOne(db, sql: "SELECT email FROM agents WHERE id = ?", arguments: [id]) }
        }
        return values
    }

    static func isCannedVariable(_ name: String) -> Bool {
        ["contact.name", "contact.email", "agent.name", "agent.email", "ticket.id"].contains(name)
            || name.hasPrefix("contact.field.") || name.hasPrefix("ticket.field.")
    }

    static func canned(_ db: Database, for actor: Caller) throws -> [CannedResponse] {
        let departments = actor.departments.isEmpty ? "NULL" : actor.departments.map(String.init).joined(separator: ",")
        let scope = actor.managesSettings && actor.agentId == nil
            ? "1" : "(agent_id IS NULL AND (department_id IS NULL OR department_id IN (\(departments)) OR ?)) OR agent_id = ?"
        let arguments: StatementArguments = actor.managesSettings && actor.agentId == nil ? [] : [actor.managesSettings, actor.agentId ?? -1]
        return try Row.fetchAll(db, sql: "SELECT * FROM canned_responses WHERE \(scope) ORDER BY shortcut, id", arguments: arguments).map {
            CannedResponse(id: $0["id"], shortcut: $0["shortcut"], title: $0["title"], text: $0["text"], agentId: $0["agent_id"], departmentId: $0["department_id"])
        }
    }

    static func shortcut(_ raw: String) throws -> String {
        let shortcut = raw.hasPrefix("#") ? String(raw.dropFirst()) : raw
        guard shortcut.wholeMatch(of: /[a-z0-9_-]{1,40}/.matchingSemantics(.unicodeScalar)) != nil else {  // as openapi.yaml's pattern reads it
            throw InboxError.invalid(code: "invalid_shortcut", message: "a shortcut is # and 1 to 40 lower-case letters, digits, - or _")
        }
        return shortcut
    }
}
