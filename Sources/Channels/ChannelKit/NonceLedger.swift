import Foundation

/// A verified signature that covers a timestamp and a nonce but not the body (WeChat's plaintext
/// mode): without more, a query string seen once would sign any body. So a signature is refused
/// when its timestamp is more than a window from the time the call arrived (the adapter's `verify`,
/// `checkFresh`), and its nonce is recorded with a digest of the body until then, in the bridge's
/// `NonceLedger`: the same nonce over another body in that time is a replay. The platform's own
/// redelivery of the same body under the same nonce is let through (the inbox dedupes it).
public struct SignatureUse: Sendable, Equatable {
    /// Whose secret made the signature (a digest of it: two accounts sharing a secret share nonces).
    public var signer: String
    public var nonce: String
    /// SHA-256 of the body, hex.
    public var digest: String
    /// When the nonce may sign another body again: its timestamp is stale by then.
    public var expires: Date

    public init(signer: String, nonce: String, body: Data, expires: Date) {
        self.signer = signer
        self.nonce = nonce
        self.digest = Signatures.sha256Hex(body)
        self.expires = expires
    }

    /// Refuses a signature whose `timestamp` (Unix seconds, as sent) is more than `window` from `now`.
    public static func checkFresh(timestamp: String, now: Date, window: TimeInterval) throws(WebhookError) {
        guard let seconds = Double(timestamp), seconds.isFinite else { throw .unauthorized("timestamp is not a number") }
        guard abs(now.timeIntervalSince1970 - seconds) <= window else {
            throw .unauthorized("timestamp is more than \(Int(window)) seconds from now; a replayed or delayed request")
        }
    }

    /// What the webhook is refused with when `NonceLedger.record` finds a replay.
    public static let replayed = WebhookError.unauthorized("nonce was already used for another body; a replayed signature")
}

/// Where the nonces of `SignatureUse`s are remembered until they expire, by the database the bridge
/// serves, so a nonce seen by one process is a replay on every other (the rate limits' twin,
/// `RateLimitLedger`): in this process on SQLite (`InProcessNonceLedger`; one process serves a
/// SQLite database), in `webhook_nonces` on PostgreSQL (`PostgresNonceLedger`). Held to one
/// contract suite (Tests/StoreTests/Contract/NonceLedgerContractTests). Times are passed in.
public protocol NonceLedger: Sendable {
    /// Records `use` at `now`. False when its nonce signed another body for its signer and has not
    /// expired (a replay: nothing is recorded); true for a new nonce, an expired one, or the same
    /// body again (which moves its expiry to `use.expires`).
    func record(_ use: SignatureUse, at now: Date) async throws -> Bool

    /// Forgets the nonces expired by `now`. Answers how many went.
    func removeExpired(at now: Date) async throws -> Int
}

/// The nonces in this process's memory (a bridge on SQLite). Past `sweepAbove` of them, the ones
/// expired a minute before are swept on the next record (a call that arrived a moment earlier still
/// finds its nonce), so memory follows the signatures of one window.
public actor InProcessNonceLedger: NonceLedger {
    private struct Key: Hashable {
        var signer: String
        var nonce: String
    }

    private var seen: [Key: (digest: String, expires: Date)] = [:]
    private let sweepAbove: Int

    public init(sweepAbove: Int = 10_000) {
        self.sweepAbove = sweepAbove
    }

    public func record(_ use: SignatureUse, at now: Date) -> Bool {
        if seen.count > sweepAbove { _ = removeExpired(at: now.addingTimeInterval(-60)) }
        let key = Key(signer: use.signer, nonce: use.nonce)
        if let earlier = seen[key], earlier.expires > now, earlier.digest != use.digest { return false }
        seen[key] = (use.digest, use.expires)
        return true
    }

    public func removeExpired(at now: Date) -> Int {
        let before = seen.count
        seen = seen.filter { $0.value.expires > now }
        return before - seen.count
    }
}
