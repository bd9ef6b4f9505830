/// A messaging platform the bridge talks to. The raw value is the `{kind}` path segment of
/// `/webhooks/{kind}/{accountId}` and the `kind:` of a configured channel account.
public enum ChannelKind: String, Sendable, Codable, CaseIterable, Hashable {
    case line
    case whatsapp
    case messenger
    case instagram
    case sms
    case wechat
    /// The website chat widget served by the bridge itself (no platform).
    case webchat
    /// A support mailbox read by IMAP, answered through the SMTP relay.
    case email

    /// Replies carry the conversation they answer (e-mail's In-Reply-To, References and subject), so
    /// the outbox gives them the ticket's thread.
    public var threadsReplies: Bool { self == .email }
}

/// Identifies one configured channel account, e.g. `line/main`.
public struct ChannelAccountRef: Sendable, Hashable, Codable, CustomStringConvertible {
    public var kind: ChannelKind
    public var id: String

    public init(kind: ChannelKind, id: String) {
        self.kind = kind
        self.id = id
    }

    /// `kind/id`, the account's key in the store.
    public var key: String { "\(kind.rawValue)/\(id)" }
    public var description: String { key }
}
