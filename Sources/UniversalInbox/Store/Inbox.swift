import ChannelKit
import Foundation
import GRDB

/// The hybrid ticket stream: every channel's messages filed into one ticket per customer conversation.
/// Writes go through here; events are published on `bus` once committed. Its stores are reached
/// by name (`outbox`, `ticketStore`, ...: `InboxStores`' fields, through the dynamic member lookup).
@dynamicMemberLookup
public struct Inbox: Sendable {
    /// The stores this inbox works through, as built (`InboxStores.sqlite` or `.postgres`).
    public let stores: InboxStores
    /// The SQLite database, for tests that look at its rows directly (the bridge itself reads and
    /// writes only through `stores`); on PostgreSQL it throws.
    public var database: AppDatabase {
        get throws {
            guard let database = stores.sqlite else {
                throw InboxError.unprocessable(
                    code: "not_available_on_postgres", message: "the SQLite database is asked for, but the inbox is on PostgreSQL")
            }
            return database
        }
    }
    public let bus: InboxEventBus
    let clock: @Sendable () -> Date
    /// What a ticket search may ask for and how long it may run.
    public let searchLimits: SearchLimits
    private let ingestQueue: IngestQueue

    /// An inbox on one SQLite database (`InboxStores.sqlite`).
    public init(
        database: AppDatabase, bus: InboxEventBus = InboxEventBus(), clock: @escaping @Sendable () -> Date = { Date() },
        searchLimits: SearchLimits = SearchLimits()
    ) {
        self.init(stores: .sqlite(database), bus: bus, clock: clock, searchLimits: searchLimits)
    }

    public init(
        stores: InboxStores, bus: InboxEventBus = InboxEventBus(), clock: @escaping @Sendable () -> Date = { Date() },
        searchLimits: SearchLimits = SearchLimits()
    ) {
        self.stores = stores
        self.bus = bus
        self.clock = clock
        self.searchLimits = searchLimits
        self.ingestQueue = IngestQueue(store: stores.ingestStore, bus: bus, clock: clock)
    }

    public subscript<Store>(dynamicMember path: KeyPath<InboxStores, Store>) -> Store { stores[keyPath: path] }

    /// Files one webhook's verified events, and keeps the ones its adapter could not read (in the
    /// same transaction). Returns once they are committed (group commit with concurrent webhooks);
    /// events seen before on this account are counted as duplicates and skipped.
    public func ingest(_ events: [InboundEvent], unreadable: [UnreadableEvent] = [], from account: ChannelAccountRef) async throws -> IngestResult {
        try await ingestQueue.submit(events, unreadable: unreadable, from: account)
    }

    /// Changes a ticket's status. A closed ticket stays closed.
    public func setStatus(ticketId: Int64, to status: TicketStatus, by actor: Caller = .system) async throws -> TicketSummary {
        try await updateTicket(ticketId, TicketChanges(status: status), by: actor)
    }

    /// Links two contacts that are the same customer: `other`'s channel identities and tickets move to
    /// `contactId`, and `other` is removed. From then on the customer's messages on every channel
    /// route to one ticket. Nothing known about `other` is lost: its tags join `contactId`'s, and its
    /// name, e-mail address and custom field values fill those `contactId` does not have.
    public func linkContacts(_ contactId: Int64, absorbing other: Int64) async throws -> ContactDetail {
        guard contactId != other else { throw InboxError.unprocessable(code: "same_contact", message: "a contact cannot be linked to itself") }
        try await stores.contactStore.link(contactId, absorbing: other, at: clock())
        guard let contact = try await contact(id: contactId) else { throw InboxError.notFound("contact \(contactId)") }
        return contact
    }

    /// Closes tickets resolved before `cutoff`. Returns how many were closed.
    @discardableResult
    public func closeResolvedTickets(resolvedBefore cutoff: Date) async throws -> Int {
        let ids = try await stores.ticketStore.closeResolved(before: cutoff, at: clock())
        bus.publish(ids.map { .ticketStatusChanged(ticketId: $0, status: .closed) })
        return ids.count
    }
}
