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

    public init(id: Int64, shortcut: String, title: String, text: String, agentId: Int64?, departmentId: Int64?) {
        self.id = id
        self.shortcut = shortcut
        self.title = title
        self.text = text
        self.agentId = agentId
        self.departmentId = departmentId
    }
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

/// What `PATCH /api/v1/canned-responses/{id}` changes: each nil part stays as it is;
/// `departmentId` is `.some(nil)` to make a response global.
public struct CannedResponseChange: Sendable, Equatable {
    public var shortcut: String?
    public var title: String?
    public var text: String?
    public var departmentId: Int64??

    public init(shortcut: String? = nil, title: String? = nil, text: String? = nil, departmentId: Int64?? = nil) {
        self.shortcut = shortcut
        self.title = title
        self.text = text
        self.departmentId = departmentId
    }
}

extension Inbox {
    public func createCannedResponse(
        shortcut: String, title: String, text: String, agentId: Int64?, departmentId: Int64?
    ) async throws -> CannedResponse {
        let shortcut = try Self.shortcut(shortcut)
        let text = try Self.cannedText(text)
        return try await stores.cannedResponseStore.add(
            shortcut: shortcut, title: title.isEmpty ? shortcut : title, text: text, agentId: agentId, departmentId: departmentId, at: clock())
    }

    /// Changes what `change` names of a response, checked as on creation; who may is who may delete
    /// it (`mayChange`). An agent's own response stays in no department. Nothing changes on error:
    /// `notFound`, `not_yours`, `shortcut_taken`, `no_such_department`.
    public func updateCannedResponse(id: Int64, _ change: CannedResponseChange, by actor: Caller) async throws -> CannedResponse {
        guard var response = try await stores.cannedResponseStore.response(id: id) else { throw InboxError.notFound("canned response \(id)") }
        try Self.mayChange(response, by: actor)
        if let shortcut = change.shortcut { response.shortcut = try Self.shortcut(shortcut) }
        if let text = change.text { response.text = try Self.cannedText(text) }
        if let title = change.title { response.title = title.isEmpty ? response.shortcut : title }
        if let departmentId = change.departmentId {
            guard response.agentId == nil || departmentId == nil else {
                throw InboxError.unprocessable(code: "invalid_department", message: "an agent's own canned response belongs to no department")
            }
            response.departmentId = departmentId
        }
        guard try await stores.cannedResponseStore.update(response) else { throw InboxError.notFound("canned response \(id)") }
        return response
    }

    /// The canned responses an actor may use: global ones, its departments' and its own.
    public func cannedResponses(for actor: Caller) async throws -> [CannedResponse] {
        try await stores.cannedResponseStore.responses(in: CannedResponseScope(actor))
    }

    public func deleteCannedResponse(id: Int64, by actor: Caller) async throws {
        guard let response = try await stores.cannedResponseStore.response(id: id) else { throw InboxError.notFound("canned response \(id)") }
        try Self.mayChange(response, by: actor)
        guard try await stores.cannedResponseStore.delete(id: id) else { throw InboxError.notFound("canned response \(id)") }
    }

    /// The text of `#shortcut` for a ticket, variables filled in. The actor's own response wins over
    /// the ticket's department's, which wins over a global one.
    public func renderCannedResponse(_ shortcut: String, ticketId: Int64, by actor: Caller) async throws -> String {
        let shortcut = try Self.shortcut(shortcut)
        let context = try await cannedResponseContext(ticketId: ticketId, by: actor)
        let candidates = try await cannedResponses(for: actor).filter { $0.shortcut == shortcut }
        guard
            let chosen = candidates.first(where: { $0.agentId != nil && $0.agentId == actor.agentId })
                ?? candidates.first(where: { $0.departmentId != nil && $0.departmentId == context.departmentId })
                ?? candidates.first(where: { $0.departmentId != nil })
                ?? candidates.first(where: { $0.agentId == nil && $0.departmentId == nil })
        else { throw InboxError.unprocessable(code: "no_such_canned_response", message: "there is no canned response #\(shortcut) for you") }
        return TemplateText.fill(chosen.text, context.values)
    }

    /// Each of `responses` filled in for a ticket, as it is (not chosen again by its shortcut: two
    /// agents' own `#thanks` each show their own text); one read of the ticket for all of them.
    public func renderCannedResponses(_ responses: [CannedResponse], ticketId: Int64, by actor: Caller) async throws -> [String] {
        let context = try await cannedResponseContext(ticketId: ticketId, by: actor)
        return responses.map { TemplateText.fill($0.text, context.values) }
    }

    /// What a canned response used on a ticket by `actor` is filled from; `notFound` for no such ticket.
    private func cannedResponseContext(ticketId: Int64, by actor: Caller) async throws -> TemplateContext {
        guard var context = try await stores.cannedResponseStore.templateContext(ticketId: ticketId, agentId: actor.agentId) else {
            throw InboxError.notFound("ticket \(ticketId)")
        }
        context.values["agent.name"] = actor.name
        return context
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

    /// Who may edit or delete a response (one rule for both): owners and admins any, an agent only
    /// its own.
    static func mayChange(_ response: CannedResponse, by actor: Caller) throws {
        guard actor.managesSettings || (response.agentId != nil && response.agentId == actor.agentId) else {
            throw InboxError.forbidden(code: "not_yours", message: "agents may change or delete only their own canned responses")
        }
    }

    /// A response's text as stored (trimmed), or why it is refused: blank, too long, or a
    /// placeholder that is no variable.
    static func cannedText(_ raw: String) throws -> String {
        guard TextRules.isName(raw, maxLength: 4096) else {
            throw InboxError.invalid(code: "invalid_text", message: "a canned response is 1 to 4096 characters, not all blank")
        }
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if let unknown = TemplateText.variables(in: text).first(where: { !Self.isCannedVariable($0) }) {
            throw InboxError.unprocessable(
                code: "unknown_variable",
                message: "{{\(unknown)}} is not a variable; use contact.name, contact.email, contact.field.KEY, agent.name, agent.email, ticket.id, ticket.field.KEY")
        }
        return text
    }

    static func isCannedVariable(_ name: String) -> Bool {
        ["contact.name", "contact.email", "agent.name", "agent.email", "ticket.id"].contains(name)
            || name.hasPrefix("contact.field.") || name.hasPrefix("ticket.field.")
    }

    static func shortcut(_ raw: String) throws -> String {
        let shortcut = raw.hasPrefix("#") ? String(raw.dropFirst()) : raw
        guard shortcut.wholeMatch(of: /[a-z0-9_-]{1,40}/.matchingSemantics(.unicodeScalar)) != nil else {  // as openapi.yaml's pattern reads it
            throw InboxError.invalid(code: "invalid_shortcut", message: "a shortcut is # and 1 to 40 lower-case letters, digits, - or _")
        }
        return shortcut
    }
}
