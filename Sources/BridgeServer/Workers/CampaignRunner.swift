import Broadcast
import ChannelKit
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import UniversalInbox

/// Runs campaigns in every process: sends each running campaign a chunk at a time (taking turns
/// when several run), claiming recipients under this process's name (`RunOnceLeaser.holder`), and
/// stops between chunks when one is paused or cancelled. Two processes share a campaign: their
/// claims never overlap, and each writes only to the recipients it still holds.
///
/// The loop runs under a duty of this process's own, `campaigns/<holder>`, which it always holds:
/// its lease row, renewed every few seconds, is what tells the others it is alive. Every
/// `settleEvery` it settles the recipients a dead process left `sending`
/// (`recoverInterruptedSends`). The process holding the shared `campaigns` duty also starts
/// scheduled campaigns when their time comes, so each starts once.
struct CampaignRunner: Service {
    let inbox: Inbox
    let registry: ChannelRegistry
    let sender: CampaignSender
    let leaser: RunOnceLeaser
    let logger: Logger
    let signal = WakeSignal()
    /// How often the recipients of dead processes are looked for (a dead holder's lease runs out
    /// `RunOnceLeaser.term` after its last renewal; on SQLite, at once at start).
    static let settleEvery: Duration = .seconds(5)

    func run() async throws {
        let wakeups = signal.follow(inbox.bus) { if case .campaignChanged = $0 { true } else { false } }
        defer { wakeups.cancel() }
        let settled = SettleClock()
        await signal.runUntilShutdown("campaigns/\(leaser.holder)", leaser: leaser, interval: .seconds(1)) {
            do {
                if await leaser.standing("campaigns") != .standby { try await inbox.startDueCampaigns() }
                if settled.due(every: Self.settleEvery) { await settle() }
                // Round-robin: a chunk of each running campaign, until none has anything due.
                var busy = true
                while busy {
                    busy = false
                    for campaign in try await inbox.runningCampaigns() where try await sender.sendChunk(campaign) > 0 {
                        busy = true
                    }
                }
            } catch {
                logger.error("campaign sending failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Settles what dead processes (or this one's predecessor) left in flight.
    func settle() async {
        do {
            let recovered = try await inbox.recoverInterruptedSends(idempotentAccounts: registry.idempotentAccounts, holder: leaser.holder)
            if recovered.resumed + recovered.failed > 0 {
                logger.notice(
                    "campaign sends interrupted by a stopped process", metadata: ["recipients.resumed": "\(recovered.resumed)", "recipients.failed": "\(recovered.failed)"])
            }
        } catch {
            logger.error("could not settle interrupted campaign sends", metadata: ["error": "\(error)"])
        }
    }
}

/// When the runner last settled interrupted sends.
private final class SettleClock: Sendable {
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    func due(every interval: Duration) -> Bool {
        let now = ContinuousClock.now
        return last.withLock { last in
            if let last, last.duration(to: now) < interval { return false }
            last = now
            return true
        }
    }
}
