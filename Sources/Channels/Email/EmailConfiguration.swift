import ChannelKit
import Foundation

/// One support mailbox (`kind: email` in bridge.yaml): the address customers write to, the name
/// replies are signed with, and where its mail is read (IMAP).
public struct EmailConfiguration: Sendable, Equatable {
    public var id: String
    /// The support address: From of our replies, and the domain of their Message-IDs.
    public var address: String
    /// The display name of our replies' From.
    public var name: String?
    public var imap: IMAP
    public var rateLimit: RateLimit?

    /// `Name <address>`: the From of this mailbox's replies.
    public var from: String {
        guard let name = name?.trimmingCharacters(in: .whitespaces), !name.isEmpty else { return address }
        return "\(name) <\(address)>"
    }

    public struct IMAP: Sendable, Equatable {
        /// `imaps://host:993`, or `imap://host:143` (STARTTLS required unless `allowPlaintext`).
        public var url: String
        public var username: String
        public var password: String
        public var mailbox: String
        /// A PEM bundle to trust instead of the system's (a private server, tests).
        public var caFile: String?
        public var allowPlaintext: Bool
        /// How often the mailbox is searched when the server has no IDLE, and the longest an IDLE
        /// lasts before it is renewed.
        public var pollInterval: Duration
        /// Set \Seen on a mail once it is filed (it is never deleted).
        public var markSeen: Bool

        public init(
            url: String, username: String, password: String, mailbox: String = "INBOX", caFile: String? = nil, allowPlaintext: Bool = false,
            pollInterval: Duration = .seconds(60), markSeen: Bool = true
        ) {
            self.url = url
            self.username = username
            self.password = password
            self.mailbox = mailbox
            self.caFile = caFile
            self.allowPlaintext = allowPlaintext
            self.pollInterval = pollInterval
            self.markSeen = markSeen
        }
    }

    public init(id: String, address: String, name: String? = nil, imap: IMAP, rateLimit: RateLimit? = nil) {
        self.id = id
        self.address = address
        self.name = name
        self.imap = imap
        self.rateLimit = rateLimit
    }
}
