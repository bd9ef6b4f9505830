import Foundation
import HTTPTypes
import Hummingbird

/// The web page's sign-in: a login token kept in the `bridge_session` cookie, which page scripts
/// cannot read (`HttpOnly`) and browsers send only on requests from the bridge's own site
/// (`SameSite=Strict`). Requests it authenticates that change anything must also come from the
/// bridge's own origin (`SameOrigin`), which stops cross-site request forgery in browsers whose
/// `SameSite` handling is missing or lax.
enum SessionCookie {
    static let name = "bridge_session"

    /// The session token the request carries, if any.
    static func token(in headers: HTTPFields) -> String? {
        guard let value = Cookies(from: headers[values: .cookie])[name]?.value, !value.isEmpty else { return nil }
        return value
    }

    /// `Set-Cookie` for a new session of `lifetime` seconds.
    static func set(_ token: String, lifetime: TimeInterval, secure: Bool) -> String {
        "\(name)=\(token); HttpOnly; SameSite=Strict; Path=/; Max-Age=\(max(0, Int(lifetime)))" + (secure ? "; Secure" : "")
    }

    /// `Set-Cookie` that makes the browser forget the session.
    static func clear(secure: Bool) -> String { set("", lifetime: 0, secure: secure) }

    /// `Secure` when the page is reached over HTTPS: `server.publicBaseURL` is https, or the TLS
    /// proxy in front says so (`X-Forwarded-Proto: https`).
    static func secure(_ headers: HTTPFields, publicBaseURL: String?) -> Bool {
        if publicBaseURL?.lowercased().hasPrefix("https://") == true { return true }
        let proto = headers[.xForwardedProto]?.split(separator: ",").first?.trimmingCharacters(in: .whitespaces).lowercased()
        return proto == "https"
    }
}

/// Whether a browser request comes from a page of the bridge itself: its `Origin` is the bridge's
/// own (the `Host` it was sent to, over http or https, or `server.publicBaseURL`'s origin).
enum SameOrigin {
    /// Methods that change nothing, which a cookie may authenticate from anywhere.
    static func isSafe(_ method: HTTPRequest.Method) -> Bool { [.get, .head, .options].contains(method) }

    static func allows(origin: String?, authority: String?, publicBaseURL: String?) -> Bool {
        guard let origin = origin.flatMap(normalized) else { return false }
        var own: [String] = []
        if let authority, !authority.isEmpty { own += ["http://\(authority)", "https://\(authority)"].compactMap(normalized) }
        if let publicBaseURL, let base = normalized(publicBaseURL) { own.append(base) }
        return own.contains(origin)
    }

    /// `scheme://host[:port]` in lower case without the scheme's default port; nil when it is not
    /// an http(s) origin (`null`, a path, user info).
    static func normalized(_ text: String) -> String? {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host?.lowercased(), !host.isEmpty, url.user == nil, url.password == nil
        else { return nil }
        let port = url.port.flatMap { ($0 == 80 && scheme == "http") || ($0 == 443 && scheme == "https") ? nil : $0 }
        return "\(scheme)://\(host)" + (port.map { ":\($0)" } ?? "")
    }
}

extension HTTPField.Name {
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
}
