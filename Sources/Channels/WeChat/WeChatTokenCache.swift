import ChannelKit
import Foundation

/// The account's `access_token`: fetched once, shared by every send until five minutes before it
/// expires, fetched only once when many sends need it at the same moment, dropped when WeChat says
/// it is no longer valid.
actor WeChatTokenCache {
    private var token: (value: String, expires: Date)?
    private var inFlight: Task<(String, Date), any Error>?
    /// How many times a token was fetched (tests and logs).
    private(set) var fetches = 0

    func token(fetch: @escaping @Sendable () async throws -> (String, TimeInterval)) async throws -> String {
        if let token, token.expires > Date() { return token.value }
        if let inFlight { return try await inFlight.value.0 }
        let task = Task { () -> (String, Date) in
            let (value, lifetime) = try await fetch()
            return (value, Date().addingTimeInterval(max(lifetime - 300, 30)))
        }
        inFlight = task
        fetches += 1
        defer { inFlight = nil }
        let (value, expires) = try await task.value
        token = (value, expires)
        return value
    }

    /// Forgets `value` if it is the cached one (WeChat said it expired).
    func invalidate(_ value: String) {
        if token?.value == value { token = nil }
    }
}
