import Broadcast
import EmailChannel
import ChannelKit
import Foundation
import Notifier
import ServiceLifecycle
import UniversalInbox

/// The bridge's background services: the outbox dispatcher and follow-up worker, the janitors,
/// search indexer and distributor, the live hub, outgoing webhooks, rules, alerts, campaigns, the
/// Slack mirrors, the daily summary e-mail and the satisfaction surveyor. They start with the server and stop in reverse order.
enum BridgeServices {
    static func make(_ core: BridgeCore, janitorInterval: Duration) throws -> [any Service] {
        let (config, inbox, registry, transport, logger) = (core.config, core.inbox, core.registry, core.transport, core.logger)
        // The PostgreSQL client comes first: services stop in reverse order, so it stops after every
        // other service's last query. Then the transports' owners, so the HTTP clients close after
        // every sender; then the run-once leases, released only after every duty's step finished.
        return (core.database.clientService.map { [$0] } ?? [])
            + core.ownedTransports.map { HTTPTransportOwner(transport: $0) }
            + [core.runOnce, ChannelAccountsRefresher(registry: registry, logger: logger)]
            + core.consoles.values.map { SlackMirror(console: $0, inbox: inbox, transport: transport, leaser: core.runOnce, rateLimits: core.rateLimits, logger: logger) }
            + [
                OutboxDispatcher(
                    inbox: inbox, registry: registry, transport: transport, retry: config.retry, metrics: core.metrics, logger: logger,
                    lease: config.outboundLease),
                FollowUpWorker(
                    inbox: inbox, registry: registry, transport: transport,
                    attachments: try AttachmentStore(directory: config.mediaDirectory), maxMediaBytes: config.media.maxBytes,
                    retry: config.retry, logger: logger, staged: core.uploads),
                TicketJanitor(
                    inbox: inbox, autoCloseAfter: config.autoCloseAfter, interval: janitorInterval, uploads: core.uploads,
                    uploadRetention: config.media.uploadRetention, leaser: core.runOnce, logger: logger),
                SearchIndexer(inbox: inbox, leaser: core.runOnce, logger: logger),
                RetentionJanitor(inbox: inbox, interval: janitorInterval, leaser: core.runOnce, logger: logger),
                LedgerJanitor(rateLimits: core.rateLimits, nonces: core.nonces, interval: janitorInterval, leaser: core.runOnce, logger: logger),
                Distributor(inbox: inbox, registry: registry, queueMessage: config.queueMessage, spam: config.spam, leaser: core.runOnce, logger: logger),
                core.live,
                core.visitorLog,
                core.widgetSockets,
            ] + (core.database.liveListener(for: core.live, visitorLog: core.visitorLog, logger: logger).map { [$0] } ?? []) + [
                WebhookSender(inbox: inbox, transport: transport, retry: config.retry, leaser: core.runOnce, logger: logger),
                RulesRunner(inbox: inbox, registry: registry, leaser: core.runOnce, logger: logger),
                AlertWorker(inbox: inbox, notifier: notifier(core), config: config.notifier, leaser: core.runOnce, logger: logger),
                CampaignRunner(
                    inbox: inbox, registry: registry,
                    sender: CampaignSender(
                        inbox: inbox, accounts: core.campaignAccounts, transport: transport, retry: config.retry, logger: logger,
                        holder: core.runOnce.holder, chunkSize: config.broadcast.chunkSize, concurrency: config.broadcast.concurrency,
                        stopping: { Task.isShuttingDownGracefully }),
                    leaser: core.runOnce, logger: logger),
                PasswordHasherOwner(hasher: core.hasher),
            ]
            + (core.mailer.map { [DailySummaryWorker(inbox: inbox, mailer: $0, config: config.reports, leaser: core.runOnce, clock: core.clock, interval: janitorInterval, logger: logger)] } ?? [])
            + (config.satisfaction.enabled ? [SatisfactionSurveyor(inbox: inbox, registry: registry, config: config.satisfaction, leaser: core.runOnce, logger: logger)] : [])
            + config.channels.compactMap { channel -> EmailMailboxReader? in
                guard case .email(let account) = channel else { return nil }
                return EmailMailboxReader(configuration: account, inbox: inbox, leaser: core.runOnce, logger: logger, clock: core.clock)
            }
    }

    /// Who gets alerted how: the page (desktop), push, SMS and e-mail, each where it is configured.
    private static func notifier(_ core: BridgeCore) -> Notifier {
        let config = core.config
        var deliveries: [AlertMedium: any AlertDelivery] = [.desktop: DesktopAlertDelivery(live: core.live)]
        if !core.push.isEmpty { deliveries[.push] = PushAlertDelivery(services: core.push, logger: core.logger) }
        if let id = config.notifier.smsAccount, let adapter = core.registry.adapter(kind: .sms, id: id) {
            deliveries[.sms] = SMSAlertDelivery(adapter: adapter, bucket: core.registry.bucket(for: "sms/\(id)"), transport: core.transport)
        }
        if let mailer = core.mailer { deliveries[.email] = EmailAlertDelivery(mailer: mailer, bucket: core.campaignAccounts.emailBucket) }
        return Notifier(inbox: core.inbox, deliveries: deliveries, retry: config.retry, logger: core.logger)
    }
}
