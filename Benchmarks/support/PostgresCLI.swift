import Foundation

/// `psql` (Debian's PostgreSQL client) on a `postgres://` URL: the benchmarks' and the cluster
/// test's reads of what the bridges stored, without a driver of their own.
public enum PostgresCLI {
    /// The rows `sql` answers, each a list of its columns as text (NULL as "").
    public static func query(_ url: String, _ sql: String) throws -> [[String]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = [url, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchmarkError("psql failed (\(process.terminationStatus)): \(sql)") }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// The one number `sql` answers.
    public static func int(_ url: String, _ sql: String) throws -> Int {
        guard let text = try query(url, sql).first?.first, let value = Int(text) else { throw BenchmarkError("no number from: \(sql)") }
        return value
    }

    /// A new, empty database beside the one `url` names (same server and user), with pg_trgm;
    /// returns its URL. The cluster test runs on one of its own, so every row in it is the test's.
    public static func freshDatabase(from url: String, name: String) throws -> String {
        let name = name.lowercased()  // as PostgreSQL folds an unquoted name
        guard var parts = URLComponents(string: url), !parts.path.isEmpty else { throw BenchmarkError("not a postgres:// URL with a database: \(url)") }
        _ = try query(url, "CREATE DATABASE \(name)")
        parts.path = "/" + name
        guard let fresh = parts.string else { throw BenchmarkError("could not name the database \(name) in \(url)") }
        _ = try query(fresh, "CREATE EXTENSION IF NOT EXISTS pg_trgm")
        return fresh
    }

    /// Drops a database `freshDatabase` made (its connections are ended first).
    public static func drop(_ url: String, name: String) throws {
        _ = try query(url, "DROP DATABASE IF EXISTS \(name.lowercased()) WITH (FORCE)")
    }
}
