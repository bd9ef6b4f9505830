import ChannelKit

/// A website chat widget (`kind: webchat` in bridge.yaml): what the widget shows (the business's
/// name, colour and greeting), the sites it may be embedded in, and the key visitor ids are signed
/// with. There is no platform: the bridge itself is the other end.
public struct WebchatConfiguration: Sendable {
    public var id: String
    /// The business's name, shown in the widget's header.
    public var name: String
    /// The widget's accent colour, `#rrggbb`.
    public var colour: String
    /// The greeting shown above the conversation, by language (`en`, `ja`).
    public var greeting: [String: String]
    /// The origins of the sites that may embed the widget (`https://shop.example`): the widget
    /// page's `frame-ancestors`, and the only pages a session may be started from.
    public var allowedOrigins: [String]
    /// The HMAC-SHA256 key of visitor tokens (`VisitorToken`): whoever holds it can act as any
    /// visitor, so it is a secret like a platform's.
    public var visitorSecret: String
    public var rateLimit: RateLimit?

    public init(
        id: String, name: String, colour: String = "#2f6fdf", greeting: [String: String] = [:], allowedOrigins: [String], visitorSecret: String,
        rateLimit: RateLimit? = nil
    ) {
        self.id = id
        self.name = name
        self.colour = colour
        self.greeting = greeting
        self.allowedOrigins = allowedOrigins
        self.visitorSecret = visitorSecret
        self.rateLimit = rateLimit
    }

    /// Whether a page of `origin` (scheme://host[:port], as browsers send it) may embed the widget.
    public func allows(origin: String) -> Bool {
        let origin = origin.lowercased()
        return allowedOrigins.contains { $0.lowercased() == origin }
    }
}
