import Foundation
import PostgresStore

/// Which database the bridge keeps its store in, from `database.url` (or `BRIDGE_DATABASE_URL`).
enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    /// `sqlite:PATH`, the default.
    case sqlite(path: String)
    /// `postgres://…` or `postgresql://…`.
    case postgres(PostgresSettings)

    static let `default` = DatabaseLocation.sqlite(path: "./data/bridge.sqlite")

    var sqlitePath: String? {
        if case .sqlite(let path) = self { return path }
        return nil
    }

    /// For logs and messages: PostgreSQL's password shows as `***`.
    var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let settings): settings.description
        }
    }
}

/// Parses `database.url`. The PostgreSQL forms are libpq's URI forms, the parts the bridge uses:
///
///     postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable|prefer|require&sslrootcert=PATH
///     postgresql://USER@[::1]/DATABASE
///     postgres://USER@/DATABASE?host=/run/postgresql&port=5432     (a Unix socket directory)
///     postgres://USER@%2Frun%2Fpostgresql/DATABASE                 (the same, as an encoded host)
///
/// Parts are percent-decoded (a password holding `@` or `/` is written `%40`, `%2F`). `user`,
/// `password`, `host` and `port` may also come as parameters. The port defaults to 5432 and
/// `sslmode` to `prefer`; `verify-ca` and `verify-full` are taken as `require`, which verifies the
/// certificate. Errors never repeat the password.
enum DatabaseURL {
    static func parse(_ url: String, key: String) throws -> DatabaseLocation {
        if url.hasPrefix("sqlite:") {
            guard url.count > "sqlite:".count else { throw ConfigError(key: key, problem: "must name a file after sqlite: (sqlite:PATH)") }
            return .sqlite(path: String(url.dropFirst("sqlite:".count)))
        }
        guard let scheme = ["postgres://", "postgresql://"].first(where: { url.hasPrefix($0) }) else {
            throw ConfigError(key: key, problem: "must look like sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE, got \"\(redacted(url))\"")
        }
        return .postgres(try postgres(String(url.dropFirst(scheme.count)), key: key))
    }

    private static func postgres(_ rest: String, key: String) throws -> PostgresSettings {
        func fail(_ problem: String) -> ConfigError { ConfigError(key: key, problem: problem) }
        func decode(_ text: Substring, _ what: String) throws -> String {
            guard let decoded = String(text).removingPercentEncoding else { throw fail("has a malformed %-escape in its \(what)") }
            return decoded
        }
        let (beforeQuery, query) = split(Substring(rest), at: "?")
        let (authority, path) = split(beforeQuery, at: "/")

        var username: String?
        var password: String?
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let (user, secret) = split(authority[..<at], at: ":")
            username = try decode(user, "user name")
            password = try secret.map { try decode($0, "password") }
            hostPort = authority[authority.index(after: at)...]
        }

        var host: String?
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw fail("has an IPv6 address without its closing ]") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("has text after the IPv6 address's ]") }
                portText = after.dropFirst()
            }
        } else {
            let (name, port) = split(hostPort, at: ":")
            if !name.isEmpty { host = try decode(name, "host") }
            portText = port
        }

        guard let path, !path.isEmpty else { throw fail("must name a database after the host (postgres://USER@HOST/DATABASE)") }
        let database = try decode(path, "database name")
        guard !database.contains("/") else { throw fail("must name one database after the host, got a path \"\(database)\"") }

        var sslMode = PostgresSettings.SSLMode.prefer
        var sslRootCertificate: String?
        for parameter in (query ?? "").split(separator: "&") {
            let (name, value) = split(parameter, at: "=")
            guard let value else { throw fail("has a parameter without a value: \(name)") }
            let text = try decode(value, "parameter \(name)")
            switch name {
            case "sslmode":
                switch text {
                case "disable": sslMode = .disable
                case "prefer": sslMode = .prefer
                case "require", "verify-ca", "verify-full": sslMode = .require
                default: throw fail("has sslmode=\(text); use disable, prefer or require (verify-ca and verify-full are taken as require)")
                }
            case "sslrootcert": sslRootCertificate = text
            case "host": host = text
            case "port": portText = Substring(text)
            case "user": username = text
            case "password": password = text
            default:
                throw fail("has an unknown parameter \(name); the bridge takes sslmode, sslrootcert, host, port, user and password")
            }
        }

        var port = 5432
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else { throw fail("has port \"\(portText)\"; a port is a number from 1 to 65535") }
            port = number
        }
        guard let username, !username.isEmpty else { throw fail("must name a user (postgres://USER@HOST/DATABASE)") }
        guard let host, !host.isEmpty else {
            throw fail("must name a host, or a Unix socket directory with ?host=/path (postgres://USER@HOST/DATABASE)")
        }
        let endpoint: PostgresSettings.Endpoint
        if host.hasPrefix("/") {
            guard sslMode != .require else { throw fail("asks for sslmode=require over a Unix socket, which has no TLS") }
            endpoint = .socket(directory: host, port: port)
        } else {
            endpoint = .tcp(host: host, port: port)
        }
        return PostgresSettings(
            endpoint: endpoint, username: username, password: password, database: database, sslMode: sslMode, sslRootCertificate: sslRootCertificate)
    }

    /// `text` before and after the first `separator` (nil after when there is none).
    private static func split(_ text: Substring, at separator: Character) -> (Substring, Substring?) {
        guard let index = text.firstIndex(of: separator) else { return (text, nil) }
        return (text[..<index], text[text.index(after: index)...])
    }

    /// `url` with anything that may be a password (between `:` and `@` after `//`, or a `password=`
    /// parameter) replaced by `***`, for error messages.
    static func redacted(_ url: String) -> String {
        var text = url
        if let slashes = text.range(of: "//"), let at = text[slashes.upperBound...].lastIndex(of: "@"),
            let colon = text[slashes.upperBound..<at].firstIndex(of: ":")
        {
            text.replaceSubrange(text.index(after: colon)..<at, with: "***")
        }
        if let range = text.range(of: "password=") {
            let end = text[range.upperBound...].firstIndex(of: "&") ?? text.endIndex
            text.replaceSubrange(range.upperBound..<end, with: "***")
        }
        return text
    }
}
