import Foundation
import NIOCore
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL database is and how to log in, as `database.url` says it (parsed in
/// `BridgeServer/Configuration/DatabaseURL.swift`). `description` never shows the password.
public struct PostgresSettings: Sendable, Equatable, CustomStringConvertible {
    /// How the connection is encrypted, as libpq's `sslmode` (only the modes the bridge takes).
    public enum SSLMode: String, Sendable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, plain otherwise; the certificate is not checked (as libpq:
        /// this mode guards against nobody who can intercept, it only avoids plain text on the wire).
        case prefer
        /// TLS or no connection, and the server's certificate is verified against the system's
        /// trust store, or `sslrootcert` when given (stricter than libpq's `require`, which checks
        /// nothing unless a root certificate is present: an unverified TLS connection is no protection).
        case require
    }

    /// Where the server listens.
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// A Unix socket directory (libpq's `host=/dir`): the socket is `dir/.s.PGSQL.<port>`.
        case socket(directory: String, port: Int)
    }

    public var endpoint: Endpoint
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    /// A PEM file of the certificate authorities to trust instead of the system's (`sslrootcert`).
    public var sslRootCertificate: String?

    public init(endpoint: Endpoint, username: String, password: String?, database: String, sslMode: SSLMode = .prefer, sslRootCertificate: String? = nil) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.sslMode = sslMode
        self.sslRootCertificate = sslRootCertificate
    }

    /// `host:port` or the socket's path: what error messages name (never the password).
    public var serverDescription: String {
        switch endpoint {
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .socket(let directory, let port): Self.socketPath(directory: directory, port: port)
        }
    }

    /// The URL with the password replaced by `***`.
    public var description: String {
        let login = password == nil ? username : "\(username):***"
        switch endpoint {
        case .tcp:
            return "postgres://\(login)@\(serverDescription)/\(database)?sslmode=\(sslMode.rawValue)"
        case .socket(let directory, let port):
            return "postgres://\(login)@/\(database)?host=\(directory)&port=\(port)"
        }
    }

    static func socketPath(directory: String, port: Int) -> String {
        (directory.hasSuffix("/") ? directory : directory + "/") + ".s.PGSQL.\(port)"
    }

    /// The settings for one direct connection (`bridge migrate`, and a first check that the
    /// server answers before a pool starts).
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            let tls: PostgresConnection.Configuration.TLS =
                switch sslMode {
                case .disable: .disable
                case .prefer: .prefer(try NIOSSLContext(configuration: tlsConfiguration()))
                case .require: .require(try NIOSSLContext(configuration: tlsConfiguration()))
                }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        case .socket(let directory, let port):
            configuration = .init(unixSocketPath: Self.socketPath(directory: directory, port: port), username: username, password: password, database: database)
        }
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    /// The settings of a `PostgresClient` (a pool, run as a service) for the same database.
    public func clientConfiguration() throws -> PostgresClient.Configuration {
        switch endpoint {
        case .tcp(let host, let port):
            let tls: PostgresClient.Configuration.TLS =
                switch sslMode {
                case .disable: .disable
                case .prefer: .prefer(try tlsConfiguration())
                case .require: .require(try tlsConfiguration())
                }
            return .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        case .socket(let directory, let port):
            return .init(unixSocketPath: Self.socketPath(directory: directory, port: port), username: username, password: password, database: database)
        }
    }

    func tlsConfiguration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable, .prefer:
            tls.certificateVerification = .none
        case .require:
            if let sslRootCertificate {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(sslRootCertificate))
            }
        }
        return tls
    }
}
