@testable import BridgeServer
import Foundation
import Testing
import WebchatChannel

/// `kind: webchat` accounts in bridge.yaml: what is read, and what is refused with the key named.
@Suite struct WidgetConfigTests {
    @Test func aWebchatAccountIsRead() throws {
        let config = try ConfigLoader.parse(
            yaml: """
                channels:
                  - kind: webchat
                    id: site
                    name: Acme Shop
                    colour: "#0A7C5A"
                    greeting: { en: "Hi!", ja: "こんにちは" }
                    allowedOrigins: [https://shop.example, "http://localhost:8000"]
                    visitorSecret: ${WIDGET_SECRET}
                """, environment: ["WIDGET_SECRET": "a-visitor-secret-of-some-length"])
        guard case .webchat(let c) = try #require(config.channels.first) else { Issue.record("not a webchat account"); return }
        #expect(c.name == "Acme Shop")
        #expect(c.colour == "#0a7c5a")
        #expect(c.greeting == ["en": "Hi!", "ja": "こんにちは"])
        #expect(c.allowedOrigins == ["https://shop.example", "http://localhost:8000"])
        #expect(c.visitorSecret == "a-visitor-secret-of-some-length")
        #expect(c.allows(origin: "https://shop.example"))
        #expect(!c.allows(origin: "https://shop.example.evil.example"))
        #expect(!c.allows(origin: "http://shop.example"))
    }

    /// The console's one text field: origins separated by spaces or commas.
    @Test func originsMayBeOneText() throws {
        let config = try ConfigLoader.parse(
            yaml: "channels:\n  - { kind: webchat, id: s, name: A, allowedOrigins: \"https://a.example, https://b.example\", visitorSecret: 0123456789abcdef }")
        guard case .webchat(let c) = try #require(config.channels.first) else { Issue.record("not a webchat account"); return }
        #expect(c.allowedOrigins == ["https://a.example", "https://b.example"])
        #expect(c.greeting == [:])
    }

    static let base = "channels:\n  - { kind: webchat, id: s, name: A, visitorSecret: 0123456789abcdef"
    @Test(arguments: [
        (base + " }", "channels[0].allowedOrigins must list the sites that may embed the widget (https://shop.example)"),
        (base + ", allowedOrigins: [https://shop.example/page] }",
         #"channels[0].allowedOrigins must hold origins like https://shop.example (scheme, host, optional port, no path); got "https://shop.example/page""#),
        (base + ", allowedOrigins: [\"*\"] }", #"channels[0].allowedOrigins must hold origins like https://shop.example (scheme, host, optional port, no path); got "*""#),
        (base + ", allowedOrigins: [https://a.example], colour: red }", "channels[0].colour must be a colour like #2f6fdf"),
        (base + ", allowedOrigins: [https://a.example], greeting: { fr: Salut } }", "channels[0].greeting.fr is not a language the widget has (en, ja)"),
        ("channels:\n  - { kind: webchat, id: s, name: A, allowedOrigins: [https://a.example], visitorSecret: short }",
         "channels[0].visitorSecret must be at least 16 characters (it signs visitor ids)"),
    ])
    func badWebchatAccountNamesTheKey(_ yaml: String, _ message: String) {
        #expect(throws: ConfigError.self) { try ConfigLoader.parse(yaml: yaml, environment: [:]) }
        do {
            _ = try ConfigLoader.parse(yaml: yaml, environment: [:])
        } catch {
            #expect("\(error)" == message)
        }
    }
}
