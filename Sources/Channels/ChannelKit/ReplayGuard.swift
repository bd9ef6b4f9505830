import Foundation

/// Refuses a replayed webhook signature, for platforms whose signature covers a timestamp and a
/// nonce but not the body (WeChat's plaintext mode): without this, a query string seen once would
/// sign any body forever.
///
/// A signature is accepted while its timestamp is within `window` of the time the call arrived,
/// and each nonce is remembered for that window together with a digest of the body it signed. The
/// platform's own redelivery of the same body under the same nonce is let through (the inbox
/// dedupes it); the same nonce with another body is a replay and is refused.
public final class ReplayGuard: @unchecked Sendable {
    public let window: TimeInterval
    private let lock = NSLock()
    private var seen: [String: (digest: String, expires: Date)] = [:]
    /// Past this many remembered nonces, expired ones are swept on the next check.
    private let sweepAbove: Int

    public init(window: TimeInterval = 300, sweepAbove: Int = 10_000) {
        self.window = window
        self.sweepAbove = sweepAbove
    }

    /// Checks a verified signature's `timestamp` (Unix seconds, as sent) and `nonce` for `body`,
    /// received at `now`. Throws `.unauthorized` for a stale timestamp or a replayed nonce.
    public func check(timestamp: String, nonce: String, body: Data, now: Date) throws(WebhookError) {
        guard let seconds = Double(timestamp), seconds.isFinite else { throw .unauthorized("timestamp is not a number") }
        guard abs(now.timeIntervalSince1970 - seconds) <= window else {
            throw .unauthorized("timestamp is more than \(Int(window)) seconds from now; a replayed or delayed request")
        }
        let digest = Signatures.sha256Hex(body)
        lock.lock()
        defer { lock.unlock() }
        if seen.count > sweepAbove { seen = seen.filter { $0.value.expires > now } }
        if let earlier = seen[nonce], earlier.expires > now, earlier.digest != digest {
            throw .unauthorized("nonce was already used for another body; a replayed signature")
        }
        seen[nonce] = (digest, now.addingTimeInterval(window))
    }
}
