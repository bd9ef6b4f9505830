import ChannelKit
import Foundation
import WebchatChannel

extension ConfigLoader {
    /// A `kind: webchat` account. `allowedOrigins` is a list of origins (or, as the console's one
    /// text field writes it, origins separated by spaces or commas); `greeting` maps `en`/`ja` to
    /// text (or is one text for both). Origins are checked strictly: a browser sends
    /// `scheme://host[:port]` with nothing after, and anything else would never match.
    static func parseWebchat(_ item: ConfigNode, id: String, rateLimit: RateLimit?) throws -> WebchatConfiguration {
        try item.checkKeys(["kind", "id", "name", "colour", "greeting", "allowedOrigins", "visitorSecret", "rateLimit"])
        let originsNode = item.child("allowedOrigins")
        var origins: [String] = []
        if originsNode.value is [Any] {
            origins = try originsNode.items().map { try $0.requiredString() }
        } else if let text = try originsNode.string() {
            origins = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" }).map(String.init)
        }
        guard !origins.isEmpty else { throw ConfigError(key: originsNode.path, problem: "must list the sites that may embed the widget (https://shop.example)") }
        for origin in origins where !isOrigin(origin) {
            throw ConfigError(key: originsNode.path, problem: "must hold origins like https://shop.example (scheme, host, optional port, no path); got \"\(origin)\"")
        }
        let colour = try item.child("colour").string() ?? "#2f6fdf"
        guard colour.count == 7, colour.first == "#", colour.dropFirst().allSatisfy(\.isHexDigit) else {
            throw ConfigError(key: item.child("colour").path, problem: "must be a colour like #2f6fdf")
        }
        let greetingNode = item.child("greeting")
        var greeting: [String: String] = [:]
        if let map = greetingNode.value as? [String: Any] {
            for key in map.keys {
                guard ["en", "ja"].contains(key) else { throw ConfigError(key: greetingNode.child(key).path, problem: "is not a language the widget has (en, ja)") }
                greeting[key] = try greetingNode.child(key).string()
            }
        } else if let text = try greetingNode.string() {
            greeting = ["en": text, "ja": text]
        }
        let secret = try item.child("visitorSecret").requiredString()
        guard secret.utf8.count >= 16 else { throw ConfigError(key: item.child("visitorSecret").path, problem: "must be at least 16 characters (it signs visitor ids)") }
        let name = try item.child("name").requiredString()
        guard name.count <= 100 else { throw ConfigError(key: item.child("name").path, problem: "must be at most 100 characters") }
        return WebchatConfiguration(
            id: id, name: name, colour: colour.lowercased(), greeting: greeting, allowedOrigins: origins, visitorSecret: secret, rateLimit: rateLimit)
    }

    /// `http(s)://host[:port]`, lower case, nothing after.
    static func isOrigin(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), let host = url.host, !host.isEmpty,
            url.path.isEmpty, url.query == nil, url.fragment == nil, url.user == nil, text == text.lowercased(), !text.hasSuffix("/")
        else { return false }
        return true
    }
}
