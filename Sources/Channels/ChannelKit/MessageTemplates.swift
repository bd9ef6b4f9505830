import Foundation

/// A pre-approved message a platform lets a business send outside the customer-service window
/// (WhatsApp's message templates). Only what an agent needs to pick one and fill it in.
public struct MessageTemplate: Sendable, Equatable, Codable {
    public var name: String
    /// The platform's language code (`en_US`, `pt_BR`): a template exists once per language.
    public var language: String
    /// The platform's category (`UTILITY`, `MARKETING`, `AUTHENTICATION`).
    public var category: String
    /// The body with its numbered placeholders as the platform writes them: `Order {{1}} ships {{2}}`.
    public var bodyText: String
    /// How many body parameters a send must carry (the highest `{{n}}` in the body).
    public var parameterCount: Int

    public init(name: String, language: String, category: String, bodyText: String, parameterCount: Int? = nil) {
        self.name = name
        self.language = language
        self.category = category
        self.bodyText = bodyText
        self.parameterCount = parameterCount ?? Self.placeholderCount(in: bodyText)
    }

    /// The highest `{{n}}` in `text` (placeholders are numbered from 1, and may repeat).
    public static func placeholderCount(in text: String) -> Int {
        var highest = 0
        var rest = text[...]
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            guard let close = rest.range(of: "}}") else { break }
            if let n = Int(rest[..<close.lowerBound].trimmingCharacters(in: .whitespaces)), n > 0 { highest = max(highest, n) }
            rest = rest[close.upperBound...]
        }
        return highest
    }
}

/// An adapter whose platform keeps a list of approved message templates it can fetch.
public protocol TemplateCatalog: Sendable {
    /// What is missing from the account's configuration to list templates, as an instruction for
    /// the operator; nil when the list can be fetched.
    var templateCatalogProblem: String? { get }

    /// The account's approved templates. Throws `SendError` with the platform's reason (never a
    /// credential) when the platform refuses or answers something unreadable.
    func approvedTemplates(transport: any HTTPTransport) async throws -> [MessageTemplate]
}
