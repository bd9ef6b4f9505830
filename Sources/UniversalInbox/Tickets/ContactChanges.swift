import Foundation
import GRDB

/// Changes to a contact; `nil` leaves a field, a field set to `.some(nil)` clears it.
public struct ContactChanges: Sendable, Equatable {
    public var displayName: String?
    public var email: String??
    public var fields: [String: String?] = [:]
    public var addTags: [String] = []
    public var removeTags: [String] = []

    public init(
        displayName: String? = nil, email: String?? = nil, fields: [String: String?] = [:], addTags: [String] = [], removeTags: [String] = []
    ) {
        self.displayName = displayName
        self.email = email
        self.fields = fields
        self.addTags = addTags
        self.removeTags = removeTags
    }
}

extension Inbox {
    /// Names a contact, sets its e-mail address and custom contact fields, adds and removes its tags,
    /// all or nothing.
    public func updateContact(_ contactId: Int64, _ changes: ContactChanges) async throws -> ContactDetail {
        if let name = changes.displayName, !TextRules.isName(name, maxLength: 200) {
            throw InboxError.invalid(code: "invalid_name", message: "a contact name is 1 to 200 characters, not all blank")
        }
        if case .some(.some(let email)) = changes.email {
            guard TextRules.isEmail(email) else {
                throw InboxError.invalid(code: "invalid_email", message: "\(email) is not an e-mail address")
            }
        }
        let addTags = try changes.addTags.map(Self.tag)
        let removeTags = try changes.removeTags.map(Self.tag)
        let now = clock().ms
        try await database.pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM contacts WHERE id = ?", arguments: [contactId]) != nil else {
                throw InboxError.notFound("contact \(contactId)")
            }
            if let name = changes.displayName {
                try db.execute(sql: "UPDATE contacts SET display_name = ?, updated_at = ? WHERE id = ?", arguments: [name, now, contactId])
            }
            if let email = changes.email {
                try db.execute(sql: "UPDATE contacts SET email = ?, updated_at = ? WHERE id = ?", arguments: [email, now, contactId])
            }
            _ = try Self.setFields(db, scope: .contact, subject: contactId, changes.fields)
            try Self.changeContactTags(db, contactId: contactId, add: addTags, remove: removeTags)
        }
        guard let contact = try await contact(id: contactId) else { throw InboxError.notFound("contact \(contactId)") }
        return contact
    }
}
