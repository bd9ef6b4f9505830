import Foundation
import Testing
import UniversalInbox

/// `ChannelAccountStore` as every implementation must keep it: accounts added and changed with the
/// version moving on every change (what other processes watch), a repeated account refused, and
/// activity counted in the database (refusals per hour, the last webhook, the last send error).
@Suite struct ChannelAccountContractTests {
    static func line(_ id: String, enabled: Bool = true, at ms: Int64 = 1) -> StoredChannelAccount {
        StoredChannelAccount(
            kind: "line", id: id, settings: ["apiBaseURL": "http://127.0.0.1:9"], sealedSecrets: "sealed-\(id)",
            secretHints: ["channelSecret": "1a2b"], enabled: enabled, createdAt: Date(ms: ms), updatedAt: Date(ms: ms))
    }

    @Test(arguments: StoreKind.available)
    func accountsAreAddedChangedAndVersioned(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            let store = stores.channelAccounts
            let start = try await store.version()
            #expect(try await store.accounts().isEmpty)
            try await store.add(Self.line("shop"))
            try await store.add(Self.line("cafe"))
            let afterAdds = try await store.version()
            #expect(afterAdds == start + 2)
            #expect(try await store.accounts().map(\.id) == ["cafe", "shop"])
            #expect(try await store.account(kind: "line", id: "shop") == Self.line("shop"))
            #expect(try await store.account(kind: "whatsapp", id: "shop") == nil)

            await #expect(throws: InboxError.channelAccountExists("line/shop")) { try await store.add(Self.line("shop", at: 5)) }
            #expect(try await store.version() == afterAdds)

            var changed = Self.line("shop")
            changed.enabled = false
            changed.settings = [:]
            changed.sealedSecrets = "sealed-again"
            changed.secretHints = ["channelSecret": "9z8y", "accessToken": "abcd"]
            changed.updatedAt = Date(ms: 9)
            changed.createdAt = Date(ms: 7)
            #expect(try await store.update(changed, replacing: Self.line("shop")))
            var expected = changed
            expected.createdAt = Date(ms: 1)
            #expect(try await store.account(kind: "line", id: "shop") == expected)
            #expect(try await store.version() == afterAdds + 1)
            #expect(try await !store.update(Self.line("nowhere"), replacing: Self.line("nowhere")))
            #expect(try await store.version() == afterAdds + 1)
            // Written only over what was read: a copy read before any one of the stored fields
            // changed (state, settings, secrets, hints, time) replaces nothing.
            var late = expected
            late.enabled = true
            late.settings = ["apiBaseURL": "http://127.0.0.1:8"]
            let staleReads: [(inout StoredChannelAccount) -> Void] = [
                { $0.enabled = true }, { $0.settings = ["apiBaseURL": "http://127.0.0.1:9"] }, { $0.sealedSecrets = "sealed-shop" },
                { $0.secretHints = ["channelSecret": "1a2b"] }, { $0.updatedAt = Date(ms: 8) },
            ]
            for makeStale in staleReads {
                var read = expected
                makeStale(&read)
                #expect(try await !store.update(late, replacing: read))
            }
            #expect(try await store.account(kind: "line", id: "shop") == expected)
            #expect(try await store.version() == afterAdds + 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func activityIsCountedInTheDatabase(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores in
            let store = stores.channelAccounts
            let now = Date(ms: 10 * 3_600_000)
            #expect(try await store.activity(accounts: ["line/shop"], now: now) == ["line/shop": ChannelAccountActivity()])
            try await store.recordWebhook(account: "line/shop", at: Date(ms: now.ms - 5000))
            try await store.recordWebhook(account: "line/shop", at: Date(ms: now.ms - 9000))  // older: kept the later
            // Three refusals this minute, one 30 minutes ago, one 2 hours ago (outside the hour).
            try await store.recordRefusal(account: "line/shop", at: Date(ms: now.ms - 7200_000))
            try await store.recordRefusal(account: "line/shop", at: Date(ms: now.ms - 1800_000))
            try await store.recordRefusal(account: "line/shop", at: now)
            try await store.recordRefusal(account: "line/shop", at: now, count: 2)
            try await store.recordRefusal(account: "line/cafe", at: now)
            try await store.recordSendError(account: "line/shop", message: "invalid_token: the token was revoked", at: Date(ms: now.ms - 1000))
            try await store.recordSendError(account: "line/shop", message: "older", at: Date(ms: now.ms - 2000))
            let activity = try await store.activity(accounts: ["line/shop", "line/cafe", "sms/none"], now: now)
            #expect(activity["line/shop"] == ChannelAccountActivity(
                lastWebhookAt: Date(ms: now.ms - 5000), refusedLastHour: 4, queueDepth: 0,
                lastSendError: "invalid_token: the token was revoked", lastSendErrorAt: Date(ms: now.ms - 1000)))
            #expect(activity["line/cafe"] == ChannelAccountActivity(refusedLastHour: 1))
            #expect(activity["sms/none"] == ChannelAccountActivity())
            // An hour later the refusals have left the window.
            #expect(try await store.activity(accounts: ["line/shop"], now: Date(ms: now.ms + 3_600_000))["line/shop"]?.refusedLastHour == 0)
        }
    }

    /// Two processes on one PostgreSQL: what one counts and changes, the other reads.
    @Test func twoProcessesShareCountsAndChanges() async throws {
        guard TestServer.available else { return }
        try await Stores.withPostgresProcesses(2) { processes in
            let (one, two) = (processes[0].channelAccounts, processes[1].channelAccounts)
            let now = Date(ms: 10 * 3_600_000)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for store in [one, two] {
                    group.addTask { for _ in 0..<10 { try await store.recordRefusal(account: "line/shop", at: now) } }
                }
                try await group.waitForAll()
            }
            #expect(try await one.activity(accounts: ["line/shop"], now: now)["line/shop"]?.refusedLastHour == 20)
            let before = try await two.version()
            try await one.add(Self.line("shop"))
            #expect(try await two.version() == before + 1)
            #expect(try await two.account(kind: "line", id: "shop") == Self.line("shop"))
        }
    }
}
