import Broadcast
import ChannelKit
import Foundation
import Logging
import ServiceLifecycle
import UniversalInbox

/// Runs campaigns: starts scheduled ones when their time comes, sends running ones a chunk at a
/// time (taking turns when several run), and stops between chunks when one is paused or cancelled.
/// One process sends campaigns (duty `campaigns`); when it takes the duty, at start or from a holder
/// that died, it first settles the sends left in flight (see `recoverInterruptedSends`).
struct CampaignRunner: Service {
    let inbox: Inbox
    let registry: ChannelRegistry
    let sender: CampaignSender
    let leaser: RunOnceLeaser
    let logger: Logger
    let signal = WakeSignal()

    func run() async throws {
        let wakeups = signal.follow(inbox.bus) { if case .campaignChanged = $0 { true } else { false } }
        defer { wakeups.cancel() }
        await signal.runUntilShutdown("campaigns", leaser: leaser, interval: .seconds(1), onTake: recover) {
            do {
                // Round-robin: a chunk of each running campaign, until none has anything due.
                var busy = true
                while busy {
                    busy = false
                    for campaign in try await inbox.runnableCampaigns() where try await sender.sendChunk(campaign) > 0 {
                        busy = true
                    }
                }
            } catch {
                logger.error("campaign sending failed", metadata: ["error": "\(error)"])
            }
        }
    }

    @Sendable func recover() async {
        do {
            let recovered = try await inbox.recoverInterruptedSends(idempotentAccounts: registry.idempotentAccounts)
            if recovered.resumed + recovered.failed > 0 {
                logger.notice(
                    "campaign sends interrupted by the last stop", metadata: ["recipients.resumed": "\(recovered.resumed)", "recipients.failed": "\(recovered.failed)"])
            }
        } catch {
            logger.error("could not settle interrupted campaign sends", metadata: ["error": "\(error)"])
        }
    }
}
