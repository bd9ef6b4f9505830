import ChannelKit
import Foundation
import Logging
import Notifier
import ServiceLifecycle
import UniversalInbox

/// Agents' alerts: turns new tickets, customer messages, assignments and long waits into alerts
/// (at most every 100 ms, off the webhook path), then sends those that are due.
struct AlertWorker: Service {
    let inbox: Inbox
    let notifier: Notifier
    let config: BridgeConfig.NotifierConfig
    let leaser: RunOnceLeaser
    let logger: Logger
    let signal = WakeSignal()

    func run() async throws {
        let feedSignal = WakeSignal()
        let feedWakeups = feedSignal.follow(inbox.bus) { event in
            switch event {
            case .ticketOpened, .messageReceived, .ticketAssigned, .ticketQueued: true
            default: false
            }
        }
        defer { feedWakeups.cancel() }
        await withDiscardingTaskGroup { group in
            group.addTask {
                // Often enough to notice a ticket crossing the waiting threshold soon after it does.
                let interval = Duration.milliseconds(Int64(max(0.2, min(5, config.waitingAfter / 2)) * 1000))
                await feedSignal.runFeed(interval: interval, name: "alerts", leaser: leaser, logger: logger) {
                    if try await inbox.feedAlerts(coalesceWindow: config.coalesceWindow, waitingAfter: config.waitingAfter) > 0 { signal.signal() }
                }
            }
            group.addTask {
                await WorkLoop<PendingAlert>(
                    name: "alerts", maxInFlight: 16, pollInterval: .seconds(1), signal: signal, logger: logger,
                    claim: { limit in try await inbox.claimAlerts(limit: limit, lease: notifier.lease) },
                    perform: { alert in await notifier.send(alert) }
                ).run()
            }
        }
    }
}

/// Desktop alerts go to the agent's open inboxes over the live feed.
struct DesktopAlertDelivery: AlertDelivery {
    let live: LiveHub

    func deliver(_ alert: PendingAlert) async throws -> Bool { await live.alert(alert) }
}
