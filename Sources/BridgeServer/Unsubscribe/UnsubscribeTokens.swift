import ChannelKit
import Crypto
import Email
import Foundation
import Synchronization
import UniversalInbox

/// The tokens of one-click unsubscribe links: the recipient's address as the opt-out list keys it
/// (`Inbox.optOutKey`: ASCII letters in lower case, as the campaign statements lower) sealed with
/// AES-GCM under a random 256-bit key kept in the database (`unsubscribe_keys`, made on first use,
/// shared by every process on that database). Nobody without the key can make a token for another
/// address or read one (the address is encrypted, so a link seen in a log or a proxy reveals
/// no address), and nothing is written per mail. `u1.` and base64url of nonce, ciphertext and tag.
/// Tokens are never logged. A new key (deleting the row) voids every link sent before.
final class UnsubscribeTokens: Sendable {
    private let inbox: Inbox
    private let key = Mutex<SymmetricKey?>(nil)
    private static let purpose = Data("email-unsubscribe".utf8)
    private static let prefix = "u1."

    init(inbox: Inbox) {
        self.inbox = inbox
    }

    private func currentKey() async throws -> SymmetricKey {
        if let cached = key.withLock({ $0 }) { return cached }
        let loaded = SymmetricKey(data: try await inbox.unsubscribeKey())
        key.withLock { $0 = loaded }
        return loaded
    }

    func token(for address: String) async throws -> String {
        let sealed = try AES.GCM.seal(Data(Inbox.optOutKey(address).utf8), using: try await currentKey(), authenticating: Self.purpose)
        guard let combined = sealed.combined else { throw SecretBoxError.cannotSeal }
        return Self.prefix + Base64URL.encode(combined)
    }

    /// The address a token was made for; nil when it is not one of ours (forged, cut or from
    /// another database).
    func address(of token: String) async throws -> String? {
        let body = token.dropFirst(Self.prefix.count)
        // Only the base64url alphabet (Foundation's decoder would take `+`, `/` and `=` too).
        guard token.hasPrefix(Self.prefix), token.utf8.count <= 1024,
            body.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }), let combined = Base64URL.decode(String(body)),
            let box = try? AES.GCM.SealedBox(combined: combined)
        else { return nil }
        guard let plain = try? AES.GCM.open(box, using: try await currentKey(), authenticating: Self.purpose) else { return nil }
        return String(data: plain, encoding: .utf8)
    }
}

/// Campaign mail's unsubscribe links: `<server.publicBaseURL>/unsubscribe/<token>`.
struct UnsubscribeLinks: UnsubscribeLinkMaker {
    let tokens: UnsubscribeTokens
    let publicBaseURL: String

    func link(for address: String) async throws -> String {
        publicBaseURL + "/unsubscribe/" + (try await tokens.token(for: address))
    }
}
