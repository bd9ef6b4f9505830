import Broadcast
import ChannelKit
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import UniversalInbox

/// Runs campaigns in every process: sends each running campaign a chunk at a time (taking turns
/// when several run), claiming recipients under this process's name (`RunOnceLeaser.holder`), and
/// stops between chunks when one is paused or cancelled, or when the process stops (the sends of
/// the chunk in hand that have not gone yet go back unsent). Two processes share a campaign: their
/// claims never overlap, and each writes only to the recipients it still holds.
///
/// The loop runs under a duty of this process's own, `campaigns/<holder>`, which it always holds:
/// its lease row, renewed every few seconds, is what tells the others it is alive. Between chunks,
/// at most every `settleEvery`, it settles the recipients a dead process left `sending`
/// (`recoverInterruptedSends`; a holder counts as dead once its lease ran out `RunOnceLeaser.term`
/// ago, so a clock a little behind does not make a live process look dead), and after a chunk of
/// its own failed half way, its own. The process holding the shared `campaigns` duty also starts
/// scheduled campaigns when their time comes (so each starts once), between chunks too.
struct CampaignRunner: Service {
    let inbox: Inbox
    let registry: ChannelRegistry
    let sender: CampaignSender
    let leaser: RunOnceLeaser
    let logger: Logger
    let signal = WakeSignal()
    static let settleEvery: Duration = .seconds(5)
    static let startEvery: Duration = .seconds(1)

    func run() async throws {
        let wakeups = signal.follow(inbox.bus) { if case .campaignChanged = $0 { true } else { false } }
        defer { wakeups.cancel() }
        // The console's accounts first: a LINE account not yet loaded would look unable to resend.
        do { try await registry.refresh() } catch { logger.warning("channel accounts not refreshed", metadata: ["error": "\(error)"]) }
        let settled = Every(Self.settleEvery), started = Every(Self.startEvery)
        await signal.runUntilShutdown("campaigns/\(leaser.holder)", leaser: leaser, interval: .seconds(1)) {
            var busy = true
            // Round-robin: a chunk of each running campaign, until none has anything due.
            while busy, !Task.isShuttingDownGracefully {
                busy = false
                if started.due(), await leaser.standing("campaigns") != .standby {
                    do { try await inbox.startDueCampaigns() } catch { logger.error("scheduled campaigns not started", metadata: ["error": "\(error)"]) }
                }
                if settled.due() { await settle(includingOwn: false) }
                do {
                    for campaign in try await inbox.runningCampaigns() where !Task.isShuttingDownGracefully {
                        if try await sender.sendChunk(campaign) > 0 { busy = true }
                    }
                } catch {
                    logger.error("campaign sending failed", metadata: ["error": "\(error)"])
                    // Nothing of this process's is in flight now (chunks go one at a time): what the
                    // failed chunk left sending is settled, not left until a restart.
                    await settle(includingOwn: true)
                }
            }
        }
    }

    /// Settles what dead processes (or this one's predecessor) left in flight, and this one's own
    /// when `includingOwn`.
    func settle(includingOwn: Bool) async {
        do {
            let recovered = try await inbox.recoverInterruptedSends(
                idempotentAccounts: registry.idempotentAccounts, holder: leaser.holder, includingOwn: includingOwn, grace: RunOnceLeaser.term)
            if recovered.resumed + recovered.failed > 0 {
                logger.notice(
                    "campaign sends interrupted", metadata: ["recipients.resumed": "\(recovered.resumed)", "recipients.failed": "\(recovered.failed)"])
            }
        } catch {
            logger.error("could not settle interrupted campaign sends", metadata: ["error": "\(error)"])
        }
    }
}

/// True at most once per `interval` (the first time at once).
private final class Every: Sendable {
    private let interval: Duration
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    init(_ interval: Duration) { self.interval = interval }

    func due() -> Bool {
        let now = ContinuousClock.now
        return last.withLock { last in
            if let last, last.duration(to: now) < interval { return false }
            last = now
            return true
        }
    }
}
