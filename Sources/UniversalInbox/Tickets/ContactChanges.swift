import Foundation

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
        let update = ContactUpdate(
            displayName: changes.displayName, email: changes.email, fields: try await contactFieldValues(changes.fields), addTags: addTags,
            removeTags: removeTags)
        try await stores.contactStore.update(contactId: contactId, update, at: clock())
        guard let contact = try await contact(id: contactId) else { throw InboxError.notFound("contact \(contactId)") }
        return contact
    }

    /// Contact field values by key, checked against their definitions and normalized, keyed by the field's id.
    private func contactFieldValues(_ values: [String: String?]) async throws -> [Int64: String?] {
        guard !values.isEmpty else { return [:] }
        let defined = Dictionary(uniqueKeysWithValues: try await stores.customFieldStore.fields(scope: .contact).map { ($0.key, $0) })
        var normalized: [Int64: String?] = [:]
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            guard let field = defined[key] else {
                throw InboxError.unprocessable(code: "unknown_field", message: "there is no contact field \(key)")
            }
            normalized.updateValue(try value.map(field.normalize), forKey: field.id)
        }
        return normalized
    }
}
