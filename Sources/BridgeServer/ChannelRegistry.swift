import ChannelKit
import Email
import Foundation
import Logging
import Synchronization
import UniversalInbox

/// The channel accounts in force: their adapters and their outbound token buckets (one per
/// account for single sends, shared by agents' replies and campaigns; one for batch requests),
/// whose balances live in `rateLimits` under the account's key (`batch:` before it for batches).
///
/// The accounts are those of `bridge.yaml` and those added from the console (`ConsoleChannelAccounts`).
/// The console's are kept in the database with a version that moves on every change; `refresh()`
/// compares it with the version last loaded and reloads when it moved, so every process serving one
/// database picks up an added, edited or disabled account without a restart: a webhook for an
/// account this process does not know refreshes first, any other at most once a second
/// (`refreshForWebhook`), and `ChannelAccountsRefresher` refreshes in the background for sends.
/// The registry is a value whose adapters sit behind a lock shared by its copies.
struct ChannelRegistry: Sendable {
    struct Snapshot: Sendable {
        var adapters: [String: any ChannelAdapter] = [:]
        var buckets: [String: TokenBucket] = [:]
        var batchBuckets: [String: TokenBucket] = [:]
        /// Console accounts switched off: their webhooks are refused.
        var disabled: Set<String> = []
        /// Console accounts that could not be read (a wrong key, a bad setting), with why.
        var problems: [String: String] = [:]
        /// The console accounts' version loaded; nil: none loaded yet.
        var version: Int64?
        /// When the version was last read (loaded or found unchanged).
        var checkedAt: ContinuousClock.Instant?
    }

    private final class Shared: Sendable {
        let snapshot: Mutex<Snapshot>
        init(_ snapshot: Snapshot) { self.snapshot = Mutex(snapshot) }
    }

    private let shared: Shared
    /// The `bridge.yaml` accounts, always in force and read-only on the page.
    let fileChannels: [ChannelConfig]
    private let rateLimits: any RateLimitLedger
    let console: ConsoleChannelAccounts?
    /// The SMTP relay e-mail accounts reply through (nil: no `email:` relay configured).
    private let mailer: SMTPMailer?
    private let logger: Logger

    init(
        _ channels: [ChannelConfig], rateLimits: any RateLimitLedger, console: ConsoleChannelAccounts? = nil, mailer: SMTPMailer? = nil,
        logger: Logger = Logger(label: "channels")
    ) {
        fileChannels = channels
        self.rateLimits = rateLimits
        self.console = console
        self.mailer = mailer
        self.logger = logger
        shared = Shared(Self.build(channels, reusing: Snapshot(), rateLimits: rateLimits, mailer: mailer))
    }

    private static func build(_ channels: [ChannelConfig], reusing old: Snapshot, rateLimits: any RateLimitLedger, mailer: SMTPMailer?) -> Snapshot {
        var snapshot = Snapshot()
        for channel in channels {
            let adapter = channel.makeAdapter(mailer: mailer)
            let key = channel.account.key
            snapshot.adapters[key] = adapter
            let limit = channel.rateLimit ?? adapter.defaultRateLimit
            // A reloaded account keeps its buckets (and whoever waits on them); the console sets no rate limits.
            snapshot.buckets[key] = old.buckets[key] ?? TokenBucket(limit: limit, name: key, ledger: rateLimits)
            if let batching = adapter as? any BatchSending {
                snapshot.batchBuckets[key] = old.batchBuckets[key] ?? TokenBucket(limit: batching.batchRateLimit, name: "batch:\(key)", ledger: rateLimits)
            }
        }
        return snapshot
    }

    private var snapshot: Snapshot { shared.snapshot.withLock { $0 } }

    /// Loads the console's accounts again when their version moved since the last load. A console
    /// account whose key is also in `bridge.yaml` is ignored (the file's stands; the API refuses to add one).
    func refresh(now checkedAt: ContinuousClock.Instant = .now) async throws {
        guard let console else { return }
        let version = try await console.store.version()
        shared.snapshot.withLock { $0.checkedAt = max($0.checkedAt ?? checkedAt, checkedAt) }
        if let loaded = snapshot.version, loaded >= version { return }
        let stored = try await console.store.accounts()
        let fileKeys = Set(fileChannels.map(\.account.key))
        var channels = fileChannels
        var disabled: Set<String> = []
        var problems: [String: String] = [:]
        for account in stored where !fileKeys.contains(account.key) {
            guard account.enabled else {
                disabled.insert(account.key)
                continue
            }
            do {
                channels.append(try console.config(of: account))
            } catch {
                problems[account.key] = "\(error)"
                logger.error("console channel account not loaded", metadata: ["channel.account": "\(account.key)", "error": "\(error)"])
            }
        }
        var next = Self.build(channels, reusing: snapshot, rateLimits: rateLimits, mailer: mailer)
        next.disabled = disabled
        next.problems = problems
        next.version = version
        next.checkedAt = checkedAt
        shared.snapshot.withLock { current in
            // A slower refresh that read an older version does not undo a newer one.
            if let loaded = current.version, loaded > version { return }
            current = next
        }
    }

    /// How old the last version check may be when a webhook for a known account arrives: a change made
    /// in another process is in force for webhooks within this time, and a webhook costs no database
    /// read in the common case (one read per webhook showed up in the ingest profile's budget).
    static let webhookStaleness: Duration = .seconds(1)

    /// Brings the console's accounts up to date before a webhook for `key` is looked up: always for an
    /// account this process does not know (added in another process a moment ago), otherwise only
    /// when the last check is older than `webhookStaleness`.
    func refreshForWebhook(key: String, now: ContinuousClock.Instant = .now) async throws {
        guard console != nil else { return }
        let current = snapshot
        let known = current.adapters[key] != nil || current.disabled.contains(key)
        if known, let checked = current.checkedAt, now - checked < Self.webhookStaleness { return }
        try await refresh(now: now)
    }

    /// Whether `key` is a console account that is switched off.
    func isDisabled(_ key: String) -> Bool { snapshot.disabled.contains(key) }

    /// Why a console account is not in force although enabled, or nil.
    func problem(for key: String) -> String? { snapshot.problems[key] }

    func batchBucket(for key: String) -> TokenBucket? { snapshot.batchBuckets[key] }

    /// Accounts whose single sends carry an idempotency key (LINE's retry key), so a send
    /// interrupted by a crash may be made again.
    var idempotentAccounts: Set<String> { Set(snapshot.adapters.filter { $0.value.account.kind == .line }.keys) }

    func adapter(for key: String) -> (any ChannelAdapter)? { snapshot.adapters[key] }

    func adapter(kind: ChannelKind, id: String) -> (any ChannelAdapter)? { snapshot.adapters[ChannelAccountRef(kind: kind, id: id).key] }

    func bucket(for key: String) -> TokenBucket? { snapshot.buckets[key] }

    /// Why a reply may not go out now (the channel's rules), or nil when it may.
    func refusal(for target: ReplyTarget) -> SendError? {
        guard let adapter = adapter(for: target.account) else {
            return .permanent("unknown_account", "channel account \(target.account) is no longer configured")
        }
        return adapter.refusal(for: target.message)
    }

    var accounts: [ChannelAccountRef] { snapshot.adapters.values.map(\.account).sorted { $0.key < $1.key } }
}
