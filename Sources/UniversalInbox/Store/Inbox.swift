import ChannelKit
import Foundation
import GRDB

/// The hybrid ticket stream: every channel's messages filed into one ticket per customer conversation.
/// Writes go through here; events are published on `bus` once committed.
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
    /// The ordered event log's readers' side (`EventLogStore`).
    public let eventLog: any EventLogStore
    /// Where the tickets a guarded target is reached through stand (`AccessStore`).
    public let access: any AccessStore
    /// Agents' unsent drafts (`DraftStore`).
    public let drafts: any DraftStore
    /// Agents, departments and tokens (`AgentStore`).
    public let agentStore: any AgentStore
    /// Saved ticket-list views (`SavedViewStore`).
    public let savedViewStore: any SavedViewStore
    /// Words a reply is checked against (`ForbiddenWordStore`).
    public let forbiddenWordStore: any ForbiddenWordStore
    /// Canned responses and what they are filled from (`CannedResponseStore`).
    public let cannedResponseStore: any CannedResponseStore
    /// Replies waiting to be sent, and what a send records (`OutboxStore`).
    public let outbox: any OutboxStore
    /// Campaigns and their recipients (`CampaignStore`).
    public let campaignStore: any CampaignStore
    /// Where webhooks' events are filed (`IngestStore`); `ingest` groups webhooks on top of it.
    public let ingestStore: any IngestStore
    /// Agents' browsers and phones for push alerts (`PushDeviceStore`).
    public let pushTargets: any PushDeviceStore
    /// Agents' alert settings, who gets alerted, and the queued alerts (`AlertStore`).
    public let alerts: any AlertStore
    /// Outgoing webhooks, the feed's cursor and their deliveries (`OutgoingWebhookStore`).
    public let webhookStore: any OutgoingWebhookStore
    /// The ticket lists, their counts and full-text search (`TicketQueryStore`).
    public let ticketQueries: any TicketQueryStore
    /// Tickets' notes, read marks and history, and closing resolved tickets (`TicketStore`).
    public let ticketStore: any TicketStore
    /// Contacts' changes, tags, field values and links (`ContactStore`).
    public let contactStore: any ContactStore
    /// Custom field definitions (`CustomFieldStore`).
    public let customFieldStore: any CustomFieldStore
    /// Claims, transfers, distribution and the queue (`AssignmentStore`).
    public let assignmentStore: any AssignmentStore
    /// Automation rules in their run order (`RuleStore`).
    public let ruleStore: any RuleStore
    /// Departments' business hours (`BusinessHoursStore`).
    public let businessHoursStore: any BusinessHoursStore
    /// Tickets to ask for a rating, and contacts' answers (`SatisfactionStore`).
    public let satisfactionStore: any SatisfactionStore
    /// Media downloads and profile look-ups queued by ingest (`FollowUpJobStore`).
    public let followUpJobStore: any FollowUpJobStore
    /// What the agent and channel reports are worked out from (`ReportStore`).
    public let reportStore: any ReportStore
    /// Agent consoles' threads, cursors and events acted on (`ConsoleStore`).
    public let consoleStore: any ConsoleStore
    /// The spam filter's training and screening (`SpamStore`).
    public let spamStore: any SpamStore
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
        self.eventLog = stores.eventLog
        self.access = stores.access
        self.drafts = stores.drafts
        self.agentStore = stores.agentStore
        self.savedViewStore = stores.savedViewStore
        self.forbiddenWordStore = stores.forbiddenWordStore
        self.cannedResponseStore = stores.cannedResponseStore
        self.outbox = stores.outbox
        self.campaignStore = stores.campaignStore
        self.ingestStore = stores.ingestStore
        self.pushTargets = stores.pushTargets
        self.alerts = stores.alerts
        self.webhookStore = stores.webhookStore
        self.ticketQueries = stores.ticketQueries
        self.ticketStore = stores.ticketStore
        self.contactStore = stores.contactStore
        self.customFieldStore = stores.customFieldStore
        self.assignmentStore = stores.assignmentStore
        self.ruleStore = stores.ruleStore
        self.businessHoursStore = stores.businessHoursStore
        self.satisfactionStore = stores.satisfactionStore
        self.followUpJobStore = stores.followUpJobStore
        self.reportStore = stores.reportStore
        self.consoleStore = stores.consoleStore
        self.spamStore = stores.spamStore
        self.bus = bus
        self.clock = clock
        self.searchLimits = searchLimits
        self.ingestQueue = IngestQueue(store: ingestStore, bus: bus, clock: clock)
    }

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
        try await contactStore.link(contactId, absorbing: other, at: clock())
        guard let contact = try await contact(id: contactId) else { throw InboxError.notFound("contact \(contactId)") }
        return contact
    }

    /// Closes tickets resolved before `cutoff`. Returns how many were closed.
    @discardableResult
    public func closeResolvedTickets(resolvedBefore cutoff: Date) async throws -> Int {
        let ids = try await ticketStore.closeResolved(before: cutoff, at: clock())
        bus.publish(ids.map { .ticketStatusChanged(ticketId: $0, status: .closed) })
        return ids.count
    }
}
