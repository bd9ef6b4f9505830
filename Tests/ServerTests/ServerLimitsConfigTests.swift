@testable import BridgeServer
import Testing

/// The `server:` connection keys and the `search:` keys in bridge.yaml.
@Suite struct ServerLimitsConfigTests {
    @Test func defaultsAndValues() throws {
        let defaults = try ConfigLoader.parse(yaml: "")
        #expect(defaults.server.headerReadTimeout == 10)
        #expect(defaults.server.idleTimeout == 60)
        #expect(defaults.server.maxConnections == 512)
        #expect(defaults.server.liveHeartbeat == 25)
        #expect(defaults.search.maxQueryLength == 200)
        #expect(defaults.search.maxTerms == 10)
        #expect(defaults.search.timeout == .seconds(5))

        let config = try ConfigLoader.parse(yaml: """
            server: { headerReadTimeout: 0.3, idleTimeout: 2m, maxConnections: 64, liveHeartbeat: 10s }
            search: { maxQueryLength: 80, maxTerms: 4, timeout: 1.5s }
            """)
        #expect(config.server.headerReadTimeout == 0.3)
        #expect(config.server.idleTimeout == 120)
        #expect(config.server.maxConnections == 64)
        #expect(config.server.liveHeartbeat == 10)
        #expect(config.search.maxQueryLength == 80)
        #expect(config.search.maxTerms == 4)
        #expect(config.search.timeout == .seconds(1.5))
    }

    @Test(arguments: [
        ("server: { headerReadTimeout: 0 }", "server.headerReadTimeout must be longer than 0 and at most 1d"),
        ("server: { idleTimeout: inf }", "server.idleTimeout must be a duration such as 30s, 15m, 36h or 14d (at most 3660d), got \"inf\""),
        ("server: { maxConnections: 0 }", "server.maxConnections must be more than 0, got 0"),
        ("server: { liveHeartbeat: 0.05s }", "server.liveHeartbeat must be at least 0.1s"),
        ("server: { liveHeartbeat: 2d }", "server.liveHeartbeat must be longer than 0 and at most 1d"),
        ("search: { timeout: 2d }", "search.timeout must be longer than 0 and at most 1d"),
        ("search: { maxTerms: -1 }", "search.maxTerms must be more than 0, got -1"),
        ("search: { limit: 3 }", "search.limit"),
    ])
    func badValuesNameTheKey(_ yaml: String, _ message: String) throws {
        #expect {
            _ = try ConfigLoader.parse(yaml: yaml)
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
