import Foundation

/// Every store the inbox works through, on one database: what `Inbox` is built from (`Inbox(stores:)`),
/// made once per database by `InboxStores.sqlite(_:)` here or `InboxStores.postgres(client:logger:)`
/// (PostgresStore). The bridge, the tests and the contract suites build them the same way.
public struct InboxStores: Sendable {
    /// The SQLite database these stores are on; nil on PostgreSQL. Only for the code that still
    /// reads SQLite directly (`Inbox.database`), until it is behind the stores.
    public let sqlite: AppDatabase?
    /// Which process runs each run-once duty (distribution, feeds, ...) (`RunOnceLeases`).
    public let runOnceLeases: any RunOnceLeases
    /// The lease queues' shared operations (`LeaseQueueStore`).
    public let leaseQueues: any LeaseQueueStore
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
    /// Who views or types on which ticket, for the live hub (`PresenceStore`): in memory on SQLite,
    /// which one process serves; shared by every process on PostgreSQL.
    public let presence: any PresenceStore
    /// Channel accounts added from the console and every account's activity (`ChannelAccountStore`).
    public let channelAccounts: any ChannelAccountStore
    /// Retention, erasure and export of customers' data, the health figures and the audit log
    /// (`DataCareStore`).
    public let dataCare: any DataCareStore
    /// How far each e-mail account's mailbox is read (`MailboxCursorStore`).
    public let mailboxCursors: any MailboxCursorStore

    public init(
        sqlite: AppDatabase?,
        runOnceLeases: any RunOnceLeases,
        leaseQueues: any LeaseQueueStore,
        eventLog: any EventLogStore,
        access: any AccessStore,
        drafts: any DraftStore,
        agentStore: any AgentStore,
        savedViewStore: any SavedViewStore,
        forbiddenWordStore: any ForbiddenWordStore,
        cannedResponseStore: any CannedResponseStore,
        outbox: any OutboxStore,
        campaignStore: any CampaignStore,
        ingestStore: any IngestStore,
        pushTargets: any PushDeviceStore,
        alerts: any AlertStore,
        webhookStore: any OutgoingWebhookStore,
        ticketQueries: any TicketQueryStore,
        ticketStore: any TicketStore,
        contactStore: any ContactStore,
        customFieldStore: any CustomFieldStore,
        assignmentStore: any AssignmentStore,
        ruleStore: any RuleStore,
        businessHoursStore: any BusinessHoursStore,
        satisfactionStore: any SatisfactionStore,
        followUpJobStore: any FollowUpJobStore,
        reportStore: any ReportStore,
        consoleStore: any ConsoleStore,
        spamStore: any SpamStore,
        presence: any PresenceStore,
        channelAccounts: any ChannelAccountStore,
        dataCare: any DataCareStore,
        mailboxCursors: any MailboxCursorStore
    ) {
        self.sqlite = sqlite
        self.runOnceLeases = runOnceLeases
        self.leaseQueues = leaseQueues
        self.eventLog = eventLog
        self.access = access
        self.drafts = drafts
        self.agentStore = agentStore
        self.savedViewStore = savedViewStore
        self.forbiddenWordStore = forbiddenWordStore
        self.cannedResponseStore = cannedResponseStore
        self.outbox = outbox
        self.campaignStore = campaignStore
        self.ingestStore = ingestStore
        self.pushTargets = pushTargets
        self.alerts = alerts
        self.webhookStore = webhookStore
        self.ticketQueries = ticketQueries
        self.ticketStore = ticketStore
        self.contactStore = contactStore
        self.customFieldStore = customFieldStore
        self.assignmentStore = assignmentStore
        self.ruleStore = ruleStore
        self.businessHoursStore = businessHoursStore
        self.satisfactionStore = satisfactionStore
        self.followUpJobStore = followUpJobStore
        self.reportStore = reportStore
        self.consoleStore = consoleStore
        self.spamStore = spamStore
        self.presence = presence
        self.channelAccounts = channelAccounts
        self.dataCare = dataCare
        self.mailboxCursors = mailboxCursors
    }

    /// Every store on one SQLite database.
    public static func sqlite(_ database: AppDatabase) -> InboxStores {
        InboxStores(
            sqlite: database,
            runOnceLeases: SQLiteRunOnceLeases(database: database),
            leaseQueues: SQLiteLeaseQueueStore(database: database),
            eventLog: SQLiteEventLogStore(database: database),
            access: SQLiteAccessStore(database: database),
            drafts: SQLiteDraftStore(database: database),
            agentStore: SQLiteAgentStore(database: database),
            savedViewStore: SQLiteSavedViewStore(database: database),
            forbiddenWordStore: SQLiteForbiddenWordStore(database: database),
            cannedResponseStore: SQLiteCannedResponseStore(database: database),
            outbox: SQLiteOutboxStore(database: database),
            campaignStore: SQLiteCampaignStore(database: database),
            ingestStore: SQLiteIngestStore(database: database),
            pushTargets: SQLitePushDeviceStore(database: database),
            alerts: SQLiteAlertStore(database: database),
            webhookStore: SQLiteOutgoingWebhookStore(database: database),
            ticketQueries: SQLiteTicketQueryStore(database: database),
            ticketStore: SQLiteTicketStore(database: database),
            contactStore: SQLiteContactStore(database: database),
            customFieldStore: SQLiteCustomFieldStore(database: database),
            assignmentStore: SQLiteAssignmentStore(database: database),
            ruleStore: SQLiteRuleStore(database: database),
            businessHoursStore: SQLiteBusinessHoursStore(database: database),
            satisfactionStore: SQLiteSatisfactionStore(database: database),
            followUpJobStore: SQLiteFollowUpJobStore(database: database),
            reportStore: SQLiteReportStore(database: database),
            consoleStore: SQLiteConsoleStore(database: database),
            spamStore: SQLiteSpamStore(database: database),
            presence: InMemoryPresenceStore(),
            channelAccounts: SQLiteChannelAccountStore(database: database),
            dataCare: SQLiteDataCareStore(database: database),
            mailboxCursors: SQLiteMailboxCursorStore(database: database))
    }
}
