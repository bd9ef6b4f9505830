import Foundation

/// Why a call to a platform did not succeed, and whether trying again can help.
public struct SendError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Disposition: Sendable, Equatable {
        /// Throttling, 5xx, timeouts: try again later, no sooner than `after` when the platform said so.
        case retryable(after: Duration?)
        /// Bad token, blocked user, outside the window, invalid request: trying again cannot help.
        case permanent
    }

    public var disposition: Disposition
    /// A stable code, e.g. `outside_window`, `http_401`, `whatsapp_131047`.
    public var code: String
    /// A human-readable reason, the platform's own words where it gave some.
    public var reason: String

    public init(_ disposition: Disposition, code: String, reason: String) {
        self.disposition = disposition
        self.code = code
        self.reason = reason
    }

    public static func retryable(_ code: String, _ reason: String, after: Duration? = nil) -> SendError {
        SendError(.retryable(after: after), code: code, reason: reason)
    }

    public static func permanent(_ code: String, _ reason: String) -> SendError {
        SendError(.permanent, code: code, reason: reason)
    }

    public var isRetryable: Bool {
        if case .retryable = disposition { return true }
        return false
    }

    public var description: String { "\(code): \(reason)" }

    /// Any error from a send: a `SendError` as it is; a transport failure with a reason that names
    /// no host, address or port (the transport logged those); anything else retryable.
    public static func classify(_ error: any Error) -> SendError {
        if let error = error as? SendError { return error }
        switch error as? TransportError {
        case .refused?: return .permanent("unreachable", "could not reach the remote server")
        case .unreachable?: return .retryable("unreachable", "could not reach the remote server")
        case .invalidURL?: return .permanent("invalid_url", "the URL is not valid")
        case .responseTooLarge(let limit)?: return .permanent("too_large", "the answer exceeds the \(limit)-byte limit")
        case nil: return .retryable("transport", "could not reach the platform: \(error)")
        }
    }
}
