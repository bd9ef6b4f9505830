import Foundation

/// How many tickets a contact has and how many of them the caller may read and answer. A contact
/// is reached through its tickets (`authorize`, `.contact` and `.contactHistory`), and a restricted
/// agent's ticket list hides the tickets it may not read: these counts are what the page's access
/// module (web/access.js) needs to apply the same rules, so it offers a history link or a contact
/// to link only when the API would allow it.
public struct ContactTicketAccess: Sendable, Equatable, Codable {
    /// Every ticket of the contact, whoever may see it.
    public var total: Int
    public var readable: Int
    public var answerable: Int
}

extension Inbox {
    /// The contact's ticket counts as `actor` reaches them (`Caller.may`, the rule `authorize` applies).
    public func ticketAccess(contactId: Int64, for actor: Caller) async throws -> ContactTicketAccess {
        let places = try await stores.access.places(of: .contact(contactId)) ?? []
        func count(_ level: TicketAccessLevel) -> Int {
            places.filter { actor.may(level, assignedTo: $0.agentId, department: $0.departmentId) }.count
        }
        return ContactTicketAccess(total: places.count, readable: count(.read), answerable: count(.answer))
    }
}
