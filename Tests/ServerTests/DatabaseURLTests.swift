@testable import BridgeServer
import Foundation
import Logging
import PostgresStore
import Testing

/// `database.url`: SQLite stays the default; PostgreSQL in libpq's URL forms; malformed URLs get
/// an error naming the key; the password never shows.
@Suite struct DatabaseURLTests {
    private func parse(_ url: String) throws -> DatabaseLocation { try DatabaseURL.parse(url, key: "database.url") }

    private func postgres(_ url: String) throws -> PostgresSettings {
        guard case .postgres(let settings) = try parse(url) else { throw ConfigError(key: "", problem: "not PostgreSQL") }
        return settings
    }

    @Test func sqliteStaysTheDefault() throws {
        #expect(try ConfigLoader.parse(yaml: "").database == .sqlite(path: "./data/bridge.sqlite"))
        #expect(try parse("sqlite:/var/lib/bridge/db.sqlite") == .sqlite(path: "/var/lib/bridge/db.sqlite"))
    }

    @Test func tcpWithEverything() throws {
        let settings = try postgres("postgres://bridge:p%40ss%2Fw:rd@db.example.com:6543/inbox?sslmode=require&sslrootcert=/etc/bridge/ca.pem")
        #expect(settings == PostgresSettings(
            endpoint: .tcp(host: "db.example.com", port: 6543), username: "bridge", password: "p@ss/w:rd", database: "inbox",
            sslMode: .require, sslRootCertificate: "/etc/bridge/ca.pem"))
        #expect(settings.serverDescription == "db.example.com:6543")
    }

    @Test func defaultsAndTheLongScheme() throws {
        let settings = try postgres("postgresql://bridge@localhost/inbox")
        #expect(settings == PostgresSettings(endpoint: .tcp(host: "localhost", port: 5432), username: "bridge", password: nil, database: "inbox", sslMode: .prefer))
        #expect(try postgres("postgres://u@[::1]:5433/d?sslmode=disable").endpoint == .tcp(host: "::1", port: 5433))
        #expect(try postgres("postgres://u@[::1]:5433/d").serverDescription == "[::1]:5433")
        #expect(try postgres("postgres://u@h/d?sslmode=verify-full").sslMode == .require)
        #expect(try postgres("postgres://h/d?user=u&password=s&port=7000") == PostgresSettings(
            endpoint: .tcp(host: "h", port: 7000), username: "u", password: "s", database: "d"))
    }

    @Test func unixSockets() throws {
        let byParameter = try postgres("postgres://bridge@/inbox?host=/run/postgresql&port=5433")
        #expect(byParameter.endpoint == .socket(directory: "/run/postgresql", port: 5433))
        #expect(byParameter.serverDescription == "/run/postgresql/.s.PGSQL.5433")
        #expect(try postgres("postgres://bridge@%2Frun%2Fpostgresql/inbox").endpoint == .socket(directory: "/run/postgresql", port: 5432))
        #expect(try postgres("postgresql:///inbox?host=/tmp&user=me").endpoint == .socket(directory: "/tmp", port: 5432))
    }

    @Test func thePasswordNeverShows() throws {
        let location = try parse("postgres://bridge:hunter2-secret@db:5432/inbox?sslmode=require")
        #expect("\(location)" == "postgres://bridge:***@db:5432/inbox?sslmode=require")
        let config = try ConfigLoader.parse(yaml: "database: { url: \"postgres://bridge:hunter2-secret@db/inbox\" }")
        let refusal = #expect(throws: StartupError.self) { try config.sqliteDatabasePath(for: "`bridge serve`") }
        #expect(refusal?.description.contains("hunter2") == false)
        #expect(refusal?.description.contains("postgres://bridge:***@db:5432/inbox") == true)
        // Malformed URLs with a password: the error repeats the URL without it.
        let error = #expect(throws: ConfigError.self) { try parse("postgress://bridge:hunter2-secret@db/inbox") }
        #expect(error?.description == #"database.url must look like sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE, got "postgress://bridge:***@db/inbox""#)
        let parameter = #expect(throws: ConfigError.self) { try parse("mysql://db/inbox?password=hunter2-secret&x=1") }
        #expect(parameter?.description.contains("hunter2") == false)
    }

    @Test(arguments: [
        ("postgres://bridge@db", "database.url must name a database after the host (postgres://USER@HOST/DATABASE)"),
        ("postgres://bridge@db/", "database.url must name a database after the host (postgres://USER@HOST/DATABASE)"),
        ("postgres://bridge@db/a/b", #"database.url must name one database after the host, got a path "a/b""#),
        ("postgres://db/inbox", "database.url must name a user (postgres://USER@HOST/DATABASE)"),
        ("postgres://bridge@/inbox", "database.url must name a host, or a Unix socket directory with ?host=/path (postgres://USER@HOST/DATABASE)"),
        ("postgres://bridge@db:99999/inbox", #"database.url has port "99999"; a port is a number from 1 to 65535"#),
        ("postgres://bridge@db:x/inbox", #"database.url has port "x"; a port is a number from 1 to 65535"#),
        ("postgres://bridge@db/inbox?sslmode=always", "database.url has sslmode=always; use disable, prefer or require (verify-ca and verify-full are taken as require)"),
        ("postgres://bridge@db/inbox?connect_timeout=5", "database.url has an unknown parameter connect_timeout; the bridge takes sslmode, sslrootcert, host, port, user and password"),
        ("postgres://bridge@db/inbox?sslmode", "database.url has a parameter without a value: sslmode"),
        ("postgres://bridge@[::1/inbox", "database.url has an IPv6 address without its closing ]"),
        ("postgres://bridge@db/in%ZZbox", "database.url has a malformed %-escape in its database name"),
        ("postgres://bridge@/inbox?host=/run/postgresql&sslmode=require", "database.url asks for sslmode=require over a Unix socket, which has no TLS"),
        ("sqlite:", "database.url must name a file after sqlite: (sqlite:PATH)"),
    ])
    func malformedURLsAreRefused(url: String, message: String) throws {
        let error = #expect(throws: ConfigError.self) { try parse(url) }
        #expect(error?.description == message)
    }

    @Test func theEnvironmentOverrideIsNamed() throws {
        let config = try ConfigLoader.parse(yaml: "", environment: ["BRIDGE_DATABASE_URL": "postgres://u:pw@db/inbox"])
        #expect(config.database == .postgres(PostgresSettings(endpoint: .tcp(host: "db", port: 5432), username: "u", password: "pw", database: "inbox")))
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.parse(yaml: "", environment: ["BRIDGE_DATABASE_URL": "postgres://db"]) }
        #expect(error?.key == "BRIDGE_DATABASE_URL")
    }

    /// `bridge serve` on a PostgreSQL nobody answers at fails at once, naming `database.url` and
    /// the server (not the password), and creates nothing in the data directory.
    @Test func servingFromAnUnreachablePostgresFailsClearly() async throws {
        var config = BridgeConfig()
        config.database = try parse("postgres://bridge:pw@127.0.0.1:1/inbox")
        config.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("unreachable-\(UUID().uuidString)").path
        let error = await #expect(throws: StartupError.self) { _ = try await BridgeApp.build(config: config, logger: Logger(label: "test")) }
        #expect(error?.description.hasPrefix("database.url: cannot connect to PostgreSQL at 127.0.0.1:1") == true)
        #expect(error?.description.contains("pw") == false)
        #expect(!FileManager.default.fileExists(atPath: config.dataDirectory ?? ""))
    }
}
