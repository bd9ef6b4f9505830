import Crypto
import Foundation
import UniversalInbox

/// Typing both ways, through the presence the agents' live feed already keeps (`PresenceStore`,
/// shared by every process on PostgreSQL): a visitor typing is one more entry on their ticket, so
/// the inbox shows "Visitor is typing…" as it shows a colleague; an agent typing on the ticket
/// (the inbox sends `typing` on its live feed) is what the visitor's feed reports as `typing`.
/// A visitor's entry lapses `lapse` after their last keystroke report, like an agent's.
struct VisitorTyping: Sendable {
    let inbox: Inbox
    var clock: @Sendable () -> Date = { Date() }
    /// How long a report of typing holds (the widget repeats it while the visitor types).
    static let lapse: TimeInterval = 6
    /// The process name visitors' entries are kept under: each bridge's hub clears them once lapsed.
    static let processId = "webchat-visitors"
    /// The name the inbox shows for a typing visitor.
    static let name = "Visitor"

    /// One entry per visitor (the same id every time, so a report replaces the last one).
    static func connectionId(account: String, visitorId: String) -> UUID {
        let digest = Array(SHA256.hash(data: Data("webchat:\(account):\(visitorId)".utf8)))
        return UUID(uuid: (
            digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
            digest[8], digest[9], digest[10], digest[11], digest[12], digest[13], digest[14], digest[15]))
    }

    /// The visitor is typing; false when they have no chat yet (nobody to show it to).
    func typing(account: String, visitorId: String) async throws -> Bool {
        guard let ticketId = try await inbox.visitorTicket(account: account, visitorId: visitorId) else { return false }
        try await inbox.stores.presence.set(
            PresenceEntry(
                connectionId: Self.connectionId(account: account, visitorId: visitorId), processId: Self.processId, agentId: nil,
                agentName: Self.name, ticketId: ticketId, state: .typing, expiresAt: clock().addingTimeInterval(Self.lapse)))
        return true
    }

    /// The visitor sent their message (or left): they no longer type.
    func stopped(account: String, visitorId: String) async throws {
        try await inbox.stores.presence.remove(connectionId: Self.connectionId(account: account, visitorId: visitorId), ticketId: nil)
    }

    /// Whether someone other than the visitor (an agent) is typing in the visitor's chat now (ticket `ticketId`).
    func othersTyping(ticketId: Int64, account: String, visitorId: String) async throws -> Bool {
        let own = Self.connectionId(account: account, visitorId: visitorId)
        return try await inbox.stores.presence.presence(ticketId: ticketId, now: clock()).contains { $0.state == .typing && $0.connectionId != own }
    }
}
