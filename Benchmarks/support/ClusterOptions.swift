import ArgumentParser

/// `--database` and `--processes`, as the benchmarks that run a cluster take them: one bridge on a
/// new SQLite file by default, or bridges on a PostgreSQL server (a database of their own on it),
/// several of them behind nginx (`deploy/nginx/bridge.conf`).
public struct ClusterOptions: ParsableArguments {
    @Option(help: "The bridges' database.url (default: a new SQLite file); postgres://… runs them on a database of their own on that server.")
    public var database: String?
    @Option(help: "Bridge processes on the PostgreSQL, behind nginx (deploy/nginx/bridge.conf); N > 1 measures 1 process, then N.")
    public var processes = 1

    public init() {}

    public func validate() throws {
        guard processes >= 1 else { throw ValidationError("--processes must be at least 1") }
        guard processes == 1 || database?.hasPrefix("postgres") == true else {
            throw ValidationError("several processes need a PostgreSQL --database (one process serves a SQLite file)")
        }
    }

    /// The process counts to measure: 1, then `processes` when it is more.
    public var counts: [Int] { processes == 1 ? [1] : [1, processes] }
}
