import Foundation
import Logging
import UniversalInbox

/// Records webhooks' arrivals and signature refusals per account in the database, where every
/// process's count adds up (`ChannelAccountStore`). A refusal is always written (rare, and each
/// counts); an arrival at most once a second per account and process, so a busy account's webhooks
/// cost no extra write each: "the last webhook arrived" is exact to the second.
actor WebhookActivity {
    private let store: any ChannelAccountStore
    private let clock: @Sendable () -> Date
    private let logger: Logger
    private var lastWritten: [String: Date] = [:]

    init(store: any ChannelAccountStore, clock: @escaping @Sendable () -> Date, logger: Logger) {
        self.store = store
        self.clock = clock
        self.logger = logger
    }

    func arrived(_ account: String) async {
        let now = clock()
        if let last = lastWritten[account], now.timeIntervalSince(last) < 1, now >= last { return }
        lastWritten[account] = now
        do {
            try await store.recordWebhook(account: account, at: now)
        } catch {
            logger.warning("webhook arrival not recorded", metadata: ["channel.account": "\(account)", "error": "\(error)"])
        }
    }

    func refused(_ account: String) async {
        do {
            try await store.recordRefusal(account: account, at: clock())
        } catch {
            logger.warning("webhook refusal not recorded", metadata: ["channel.account": "\(account)", "error": "\(error)"])
        }
    }
}
