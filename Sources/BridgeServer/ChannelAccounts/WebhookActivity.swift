import Foundation
import Logging
import UniversalInbox

/// Records webhooks' arrivals and signature refusals per account in the database, where every
/// process's counts add up (`ChannelAccountStore`). Neither costs a write per webhook, so a flood
/// of forged requests cannot make the bridge write as fast as it is sent to: an arrival is written
/// at most once a second per account and process ("the last webhook" is exact to the second); a
/// refusal is written at once when none was written in the last second, else counted here and
/// added a second later in one write.
actor WebhookActivity {
    private let store: any ChannelAccountStore
    private let clock: @Sendable () -> Date
    private let logger: Logger
    private var lastArrivalWritten: [String: Date] = [:]
    private var lastRefusalWritten: [String: Date] = [:]
    /// Refusals counted but not yet written, per account; an entry means a flush is scheduled.
    private var pendingRefusals: [String: Int] = [:]

    init(store: any ChannelAccountStore, clock: @escaping @Sendable () -> Date, logger: Logger) {
        self.store = store
        self.clock = clock
        self.logger = logger
    }

    private static func recent(_ last: Date?, _ now: Date) -> Bool {
        guard let last else { return false }
        return now >= last && now.timeIntervalSince(last) < 1
    }

    func arrived(_ account: String) async {
        let now = clock()
        if Self.recent(lastArrivalWritten[account], now) { return }
        lastArrivalWritten[account] = now
        do {
            try await store.recordWebhook(account: account, at: now)
        } catch {
            logger.warning("webhook arrival not recorded", metadata: ["channel.account": "\(account)", "error": "\(error)"])
        }
    }

    func refused(_ account: String) async {
        let now = clock()
        if Self.recent(lastRefusalWritten[account], now) {
            if let pending = pendingRefusals[account] {
                pendingRefusals[account] = pending + 1
            } else {
                pendingRefusals[account] = 1
                Task {
                    try? await Task.sleep(for: .seconds(1))
                    await self.flush(account)
                }
            }
            return
        }
        lastRefusalWritten[account] = now
        await write(account, count: 1, at: now)
    }

    private func flush(_ account: String) async {
        guard let count = pendingRefusals.removeValue(forKey: account) else { return }
        let now = clock()
        lastRefusalWritten[account] = now
        await write(account, count: count, at: now)
    }

    private func write(_ account: String, count: Int, at now: Date) async {
        do {
            try await store.recordRefusal(account: account, at: now, count: count)
        } catch {
            logger.warning("webhook refusals not recorded", metadata: ["channel.account": "\(account)", "error": "\(error)"])
        }
    }
}
