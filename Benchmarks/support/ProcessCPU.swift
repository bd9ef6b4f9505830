import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// CPU time from `/proc/PID/stat`, for the benchmarks' "CPU seconds per 1,000 events" figures.
public enum ProcessCPU {
    /// A process's own CPU seconds (user and system), and those of its children it has waited for.
    public static func read(_ pid: Int32) -> (own: Double, reapedChildren: Double, name: String, parent: Int32)? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let open = stat.firstIndex(of: "("), let end = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)": state is field 3, ppid 4, utime and stime 14 and 15, cutime and cstime 16 and 17, in clock ticks.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 15, let parent = Int32(fields[1]), let user = Double(fields[11]), let system = Double(fields[12]),
            let childUser = Double(fields[13]), let childSystem = Double(fields[14])
        else { return nil }
        let tick = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ((user + system) / tick, (childUser + childSystem) / tick, String(stat[stat.index(after: open)..<end]), parent)
    }

    /// The root process of the PostgreSQL server `url` reaches, when it runs on this machine: the
    /// first line of `postmaster.pid` in its data directory (`SHOW data_directory` needs a superuser,
    /// as the throwaway server's user is). Other PostgreSQL servers on the machine (other test runs)
    /// are then left out of `postgres(root:)`. (Taking a backend's parent raced with that backend's
    /// exit once psql had disconnected, and the figure came out 0.)
    public static func postgresServer(_ url: String) -> Int32? {
        guard let directory = try? PostgresCLI.query(url, "SHOW data_directory").first?.first,
            let file = try? String(contentsOfFile: directory + "/postmaster.pid", encoding: .utf8),
            let pid = file.split(separator: "\n").first.flatMap({ Int32($0) }), read(pid)?.name == "postgres"
        else { return nil }
        return pid
    }

    /// CPU seconds the server whose root process is `root` has used: its own, its live backends'
    /// and workers', and its exited ones' (its reaped-children time).
    public static func postgres(root: Int32) -> Double {
        guard let server = read(root) else { return 0 }
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init)
        let children = pids.compactMap { read($0) }.filter { $0.parent == root }
        return server.own + server.reapedChildren + children.reduce(0) { $0 + $1.own }
    }

    /// The whole machine's CPU time from `/proc/stat`, in clock ticks: idle (with I/O wait), stolen by
    /// the hypervisor, and all of it. Two readings around a run say how much of the machine the run
    /// left unused, which a run held up by a serial stage (ingest's group-commit writer, README)
    /// does and a CPU-bound one (`/health`) does not.
    public struct Machine: Sendable {
        public var idle: Double
        public var steal: Double
        public var total: Double

        public static func read() -> Machine? {
            guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
                let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ")
            else { return nil }
            // user nice system idle iowait irq softirq steal (guest time is already in user and nice)
            let ticks = line.split(separator: " ").dropFirst().prefix(8).compactMap { Double($0) }
            guard ticks.count == 8 else { return nil }
            return Machine(idle: ticks[3] + ticks[4], steal: ticks[7], total: ticks.reduce(0, +))
        }

        /// Shares of the machine's time between two readings: idle, and stolen.
        public static func shares(from before: Machine?, to after: Machine?) -> (idle: Double, steal: Double)? {
            guard let before, let after, after.total > before.total else { return nil }
            let total = after.total - before.total
            return ((after.idle - before.idle) / total, (after.steal - before.steal) / total)
        }
    }
}
