import Foundation

/// What one ticket search may ask for and how long it may run. A trigram phrase costs in proportion
/// to its length times the matching positions in a message, so an unbounded `q` against a long
/// message held a core and gigabytes for minutes. `Inbox.listTickets` checks a query against these
/// limits before anything runs, and runs it under `timeout` (see `SearchDeadline`).
public struct SearchLimits: Sendable {
    /// Most characters (Unicode scalars) in the text searched for, and in the contact searched for.
    public var maxQueryLength: Int
    /// Most words in the text searched for (each is a phrase of its own for the index).
    public var maxTerms: Int
    /// How long one search may run before it is stopped with `SearchTooCostly`.
    public var timeout: Duration
    /// The clock `timeout` is measured on; tests inject one they control.
    public var now: @Sendable () -> ContinuousClock.Instant

    public init(
        maxQueryLength: Int = 200, maxTerms: Int = 10, timeout: Duration = .seconds(5),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.maxQueryLength = maxQueryLength
        self.maxTerms = maxTerms
        self.timeout = timeout
        self.now = now
    }

    /// Refuses a query over the limits, or one holding a NUL (which SQLite's full-text syntax
    /// cannot take), with a reason that names the limit.
    public func check(_ query: TicketQuery) throws {
        for (name, value) in [("q", query.text), ("contact", query.contact)] {
            guard let value else { continue }
            guard !value.unicodeScalars.contains("\0") else {
                throw InboxError.invalid(code: "invalid_\(name)", message: "\(name) must not contain a NUL character")
            }
            // Counted in Unicode scalars, not `Character`s: a letter with a thousand combining marks
            // is one `Character` but a thousand-scalar phrase for the index.
            let length = value.unicodeScalars.count
            guard length <= maxQueryLength else {
                throw InboxError.invalid(code: "\(name)_too_long", message: "\(name) has \(length) characters; at most \(maxQueryLength) are allowed")
            }
        }
        let terms = Self.terms(query.text)
        guard terms.count <= maxTerms else {
            throw InboxError.unprocessable(code: "too_many_terms", message: "q has \(terms.count) words; at most \(maxTerms) are allowed")
        }
    }

    /// The words of a search text.
    static func terms(_ text: String?) -> [String] {
        text?.split(whereSeparator: \.isWhitespace).map(String.init) ?? []
    }
}

/// A search stopped because it ran past `SearchLimits.timeout`.
public struct SearchTooCostly: Error, Sendable {
    public var timeout: Duration

    public init(timeout: Duration) {
        self.timeout = timeout
    }
}
