import ChannelKit

extension MessageThread {
    /// How many of a mail's references the ingest looks up (nearest first): a References header
    /// can be long, and the nearest ones decide.
    public static let referencesConsidered = 20
}

extension TicketStatus {
    /// A reply threading into a ticket in one of these reopens it (a spam ticket stays spam).
    public var waitsOrEnded: Bool { self == .pending || self == .resolved || self == .closed }
}
