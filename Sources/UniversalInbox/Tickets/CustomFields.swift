import Foundation
import GRDB

/// A field admins add to tickets or contacts.
public struct CustomField: Sendable, Equatable, Codable {
    public enum Scope: String, Sendable, Codable, CaseIterable { case ticket, contact }
    public enum Kind: String, Sendable, Codable, CaseIterable { case text, number, date, select }

    public var id: Int64
    public var scope: Scope
    /// The name in the API and in templates (`{{contact.field.key}}`): letters, digits, `_`.
    public var key: String
    public var label: String
    public var type: Kind
    /// The allowed values of a `select`.
    public var options: [String]?

    public init(id: Int64 = 0, scope: Scope, key: String, label: String, type: Kind, options: [String]? = nil) {
        self.id = id
        self.scope = scope
        self.key = key
        self.label = label
        self.type = type
        self.options = options
    }

    /// The value as stored, or why it does not fit the field: numbers in plain decimal, dates as
    /// `YYYY-MM-DD`, selects one of the options, text up to 1000 characters.
    func normalize(_ raw: String) throws -> String {
        let value = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        let valid: Bool
        switch type {
        case .text: valid = value.count <= 1000
        case .number: valid = Double(value).map { $0.isFinite } ?? false
        case .date: valid = (try? Date(value, strategy: Date.ISO8601FormatStyle().year().month().day())) != nil && value.count == 10
        case .select: valid = options?.contains(value) ?? false
        }
        guard valid else {
            let expected =
                switch type {
                case .text: "at most 1000 characters"
                case .number: "a number"
                case .date: "a date like 2026-11-21"
                case .select: "one of \((options ?? []).joined(separator: ", "))"
                }
            throw InboxError.unprocessable(code: "invalid_field_value", message: "\(key) must be \(expected)")
        }
        return value
    }
}

extension Inbox {
    public func createField(_ field: CustomField) async throws -> CustomField {
        guard field.key.wholeMatch(of: /[a-z][a-z0-9_]{0,39}/.matchingSemantics(.unicodeScalar)) != nil else {  // as openapi.yaml's pattern reads it
            throw InboxError.invalid(code: "invalid_key", message: "a field key is 1 to 40 lower-case letters, digits or _, starting with a letter")
        }
        guard !TextRules.isBlank(field.label) else { throw InboxError.invalid(code: "invalid_label", message: "a field needs a label") }
        if field.type == .select, (field.options ?? []).isEmpty {
            throw InboxError.unprocessable(code: "invalid_options", message: "a select field needs options")
        }
        var created = field
        created.id = try await stores.customFieldStore.create(field, at: clock())
        return created
    }

    public func fields(scope: CustomField.Scope? = nil) async throws -> [CustomField] {
        try await stores.customFieldStore.fields(scope: scope)
    }

    /// Deletes a field and every ticket's and contact's value of it, unless a rule's condition or a
    /// saved view's filter (anyone's) names it: then `field_in_use`, naming them, and nothing
    /// changes, rather than a rule that silently never matches again or a view that lists nothing.
    /// The check and the deletion are two steps: a rule saved in between that names the field is
    /// like one naming a key never defined (its condition does not hold), which rules allow anyway.
    public func deleteField(id: Int64) async throws {
        guard let field = try await stores.customFieldStore.fields(scope: nil).first(where: { $0.id == id }) else {
            throw InboxError.notFound("field \(id)")
        }
        var users: [String] = []
        if field.scope == .contact {
            users += try await stores.ruleStore.rules().filter { $0.conditions.contactFields?[field.key] != nil }.map { "rule \"\($0.name)\"" }
        }
        let filterName = (field.scope == .ticket ? "field." : "contact.") + field.key
        users += try await stores.savedViewStore.everyView().filter { Self.filterNames($0.filter).contains(filterName) }.map { "view \"\($0.name)\"" }
        guard users.isEmpty else {
            throw InboxError.conflict(code: "field_in_use", message: "\(field.key) is used by \(users.joined(separator: ", ")); change or delete them first")
        }
        guard try await stores.customFieldStore.delete(id: id) else { throw InboxError.notFound("field \(id)") }
    }

    /// The parameter names of a view's filter (a query string), percent-decoded as the list decodes
    /// them (`+` stays `+`).
    static func filterNames(_ filter: String) -> Set<String> {
        Set(filter.split(separator: "&").map { part in
            let name = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            return name.removingPercentEncoding ?? name
        })
    }

    /// A ticket's or contact's field values by key, inside the caller's SQLite transaction
    /// (templates, rules, summaries); `SQLiteCustomFieldStore.values` under the name they call.
    static func fieldValues(_ db: Database, scope: CustomField.Scope, subject: Int64) throws -> [String: String] {
        try SQLiteCustomFieldStore.values(db, scope: scope, subject: subject)
    }
}
