import Foundation
import Logging
import Synchronization
import UniversalInbox

/// The leases a chunk holds on the recipients it claimed (`CampaignStore`'s doc comment): renewed
/// every quarter lease while any is in flight (a chunk may wait long on its account's rate limit),
/// so the `campaigns` duty's recovery leaves them alone; a recipient a renewal no longer finds
/// `sending` under this lease was settled by recovery (the lease ran out) and is not sent.
/// Whether the lease still holds is judged on this process's monotonic clock from the moment a
/// claim or renewal was asked for, with a quarter lease to spare, so wall-clock differences
/// between processes smaller than that do not matter.
final class RecipientLeases: Sendable {
    private struct State {
        /// `leased_until` as stored: the fence for the next renewal.
        var until: Int64
        /// Recipients claimed, not yet recorded, and still this chunk's.
        var held: Set<Int64>
        /// When the last successful claim or renewal was asked for.
        var heldSince: ContinuousClock.Instant
    }

    let lease: TimeInterval
    private let state: Mutex<State>

    /// The leases of a claim asked for at `claimedAt`.
    init(_ recipients: [CampaignRecipient], lease: TimeInterval, claimedAt: ContinuousClock.Instant) {
        self.lease = lease
        state = Mutex(State(until: recipients.first?.leasedUntil ?? 0, held: Set(recipients.map(\.id)), heldSince: claimedAt))
    }

    /// Whether `id` may be sent now: still this chunk's, with at least a quarter lease left.
    func holds(_ id: Int64) -> Bool {
        holdsAll([id])
    }

    /// Whether every one of `ids` may be sent now (a batch goes whole or not at all).
    func holdsAll(_ ids: [Int64]) -> Bool {
        state.withLock { state in
            ids.allSatisfy(state.held.contains) && ContinuousClock.now < state.heldSince + .seconds(lease * 3 / 4)
        }
    }

    /// Of `outcomes`, the ones to record: a send that happened is a fact and always recorded; any
    /// other outcome only for a recipient still held (one settled by recovery is not ours to
    /// change). Those returned are no longer renewed.
    func settle(_ outcomes: [(recipientId: Int64, outcome: RecipientOutcome)]) -> [(recipientId: Int64, outcome: RecipientOutcome)] {
        state.withLock { state in
            outcomes.filter { id, outcome in
                let held = state.held.remove(id) != nil
                if case .sent = outcome { return true }
                return held
            }
        }
    }

    /// Renews the lease of the recipients still held; those the store no longer finds under it are dropped.
    func renew(_ inbox: Inbox) async throws {
        let (ids, until) = state.withLock { (Array($0.held), $0.until) }
        guard !ids.isEmpty else { return }
        let asked = ContinuousClock.now
        let renewed = try await inbox.renewRecipients(ids, held: until, lease: lease)
        state.withLock { state in
            state.held.formIntersection(renewed.held)
            state.until = renewed.until
            state.heldSince = asked
        }
    }

    /// Renews every quarter lease until cancelled.
    func keepRenewing(_ inbox: Inbox, logger: Logger) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(lease / 4))
                guard !Task.isCancelled else { return }
                do {
                    try await renew(inbox)
                } catch {
                    logger.warning("could not renew campaign recipients' lease", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
