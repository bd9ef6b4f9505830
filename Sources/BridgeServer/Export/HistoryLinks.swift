import ChannelKit
import Foundation

/// Signed, expiring links that show a customer their own ticket history: `/history/<token>`,
/// where the token carries the contact id and expiry and an HMAC-SHA256 over both. The key is a
/// random secret of its own, kept in `history-link-key` in the data directory (0600): it has nothing
/// to do with the admin token, so knowing or guessing that forges no link. Deleting the file (and
/// restarting) revokes every link.
struct HistoryLinks: Sendable {
    static let keyFile = "history-link-key"
    let key: String

    init(key: String) {
        self.key = key
    }

    /// The links of the bridge whose data directory is `directory`, creating their key on first use.
    static func loadOrCreate(in directory: String) throws -> HistoryLinks {
        HistoryLinks(key: try SecretFile.loadOrCreate(keyFile, in: directory).value)
    }

    func token(contactId: Int64, expiresAt: Date) -> String {
        let payload = "\(contactId).\(Int64(expiresAt.timeIntervalSince1970))"
        return payload + "." + signature(payload)
    }

    enum Check: Equatable {
        case valid(contactId: Int64)
        case expired
        case invalid
    }

    func check(_ token: String, now: Date = Date()) -> Check {
        let parts = token.split(separator: ".")
        guard parts.count == 3, let contactId = Int64(parts[0]), let expires = Int64(parts[1]) else { return .invalid }
        let expected = signature("\(parts[0]).\(parts[1])")
        guard Signatures.constantTimeEquals(expected, String(parts[2])) else { return .invalid }
        return Double(expires) < now.timeIntervalSince1970 ? .expired : .valid(contactId: contactId)
    }

    private func signature(_ payload: String) -> String {
        Signatures.hmacSHA256Hex(secret: key, body: Data(payload.utf8))
    }
}
