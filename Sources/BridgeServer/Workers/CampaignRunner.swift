import Broadcast
import ChannelKit
import Foundation
import Logging
import ServiceLifecycle
import UniversalInbox

/// Runs campaigns. Every process sends running ones, a chunk at a time (taking turns when several
/// run), claiming recipients the others have not (`CampaignStore`: leased rows, `FOR UPDATE SKIP
/// LOCKED` on PostgreSQL), and stops between chunks when one is paused or cancelled. One process
/// holds the duty `campaigns`: it starts scheduled campaigns when their time comes and, every
/// second, settles the sends a stopped process left in flight (`recoverInterruptedSends`: only
/// recipients whose lease ran out, so a live process's are left alone).
struct CampaignRunner: Service {
    let inbox: Inbox
    let registry: ChannelRegistry
    let sender: CampaignSender
    let leaser: RunOnceLeaser
    let logger: Logger
    /// Wakes the sending loop (a campaign changed here, or the duty started one).
    let signal = WakeSignal()
    /// Wakes the duty (a campaign changed here).
    let duty = WakeSignal()

    func run() async throws {
        let wakeups = signal.follow(inbox.bus) { if case .campaignChanged = $0 { true } else { false } }
        let dutyWakeups = duty.follow(inbox.bus) { if case .campaignChanged = $0 { true } else { false } }
        defer {
            wakeups.cancel()
            dutyWakeups.cancel()
        }
        async let settling: Void = duty.runUntilShutdown("campaigns", leaser: leaser, interval: .seconds(1)) {
            do {
                if try await inbox.startDueCampaigns() > 0 { signal.signal() }
            } catch {
                logger.error("could not start scheduled campaigns", metadata: ["error": "\(error)"])
            }
            await recover()
        }
        await send()
        await settling
    }

    /// Sends running campaigns until graceful shutdown (a chunk in progress finishes first).
    func send() async {
        let stop = StopFlag()
        await withGracefulShutdownHandler {
            while !stop.isSet {
                do {
                    // Round-robin: a chunk of each running campaign, until none has anything due.
                    var busy = true
                    while busy, !stop.isSet {
                        busy = false
                        for campaign in try await inbox.runningCampaigns() where try await sender.sendChunk(campaign) > 0 {
                            busy = true
                        }
                    }
                } catch {
                    logger.error("campaign sending failed", metadata: ["error": "\(error)"])
                }
                await signal.wait(timeout: .seconds(1))
            }
        } onGracefulShutdown: {
            stop.set()
            signal.signal()
        }
    }

    func recover() async {
        do {
            let recovered = try await inbox.recoverInterruptedSends(idempotentAccounts: registry.idempotentAccounts)
            if recovered.resumed + recovered.failed > 0 {
                logger.notice(
                    "campaign sends interrupted by a stopped process", metadata: ["recipients.resumed": "\(recovered.resumed)", "recipients.failed": "\(recovered.failed)"])
                signal.signal()
            }
        } catch {
            logger.error("could not settle interrupted campaign sends", metadata: ["error": "\(error)"])
        }
    }
}
