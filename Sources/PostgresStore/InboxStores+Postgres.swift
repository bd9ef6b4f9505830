import Logging
import PostgresNIO
import UniversalInbox

extension InboxStores {
    /// Every store on the PostgreSQL database `client` connects to (the client must be running).
    public static func postgres(client: PostgresClient, logger: Logger) -> InboxStores {
        InboxStores(
            sqlite: nil,
            runOnceLeases: PostgresRunOnceLeases(client: client, logger: logger),
            leaseQueues: PostgresLeaseQueueStore(client: client, logger: logger),
            eventLog: PostgresEventLogStore(client: client, logger: logger),
            access: PostgresAccessStore(client: client, logger: logger),
            drafts: PostgresDraftStore(client: client, logger: logger),
            agentStore: PostgresAgentStore(client: client, logger: logger),
            savedViewStore: PostgresSavedViewStore(client: client, logger: logger),
            forbiddenWordStore: PostgresForbiddenWordStore(client: client, logger: logger),
            cannedResponseStore: PostgresCannedResponseStore(client: client, logger: logger),
            outbox: PostgresOutboxStore(client: client, logger: logger),
            campaignStore: PostgresCampaignStore(client: client, logger: logger),
            ingestStore: PostgresIngestStore(client: client, logger: logger),
            pushTargets: PostgresPushDeviceStore(client: client, logger: logger),
            alerts: PostgresAlertStore(client: client, logger: logger),
            webhookStore: PostgresOutgoingWebhookStore(client: client, logger: logger),
            ticketQueries: PostgresTicketQueryStore(client: client, logger: logger),
            ticketStore: PostgresTicketStore(client: client, logger: logger),
            contactStore: PostgresContactStore(client: client, logger: logger),
            customFieldStore: PostgresCustomFieldStore(client: client, logger: logger),
            assignmentStore: PostgresAssignmentStore(client: client, logger: logger),
            ruleStore: PostgresRuleStore(client: client, logger: logger),
            businessHoursStore: PostgresBusinessHoursStore(client: client, logger: logger),
            satisfactionStore: PostgresSatisfactionStore(client: client, logger: logger),
            followUpJobStore: PostgresFollowUpJobStore(client: client, logger: logger),
            reportStore: PostgresReportStore(client: client, logger: logger),
            consoleStore: PostgresConsoleStore(client: client, logger: logger),
            spamStore: PostgresSpamStore(client: client, logger: logger),
            presence: PostgresPresenceStore(client: client, logger: logger),
            channelAccounts: PostgresChannelAccountStore(client: client, logger: logger),
            dataCare: PostgresDataCareStore(client: client, logger: logger),
            mailboxCursors: PostgresMailboxCursorStore(client: client, logger: logger))
    }
}
