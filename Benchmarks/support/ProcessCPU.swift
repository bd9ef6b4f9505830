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

    /// CPU seconds PostgreSQL processes on this machine have used: the live ones' own, plus what
    /// the server's exited backends used (counted in their parent's reaped-children time). With
    /// `port`, only the server started with `-p port` (scripts/postgres.sh's throwaway server), so
    /// that another server on a shared machine does not count; every server when none was
    /// started that way.
    public static func postgres(port: Int? = nil) -> Double {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init)
        var processes = pids.compactMap { pid in read(pid).map { (pid, $0) } }.filter { $0.1.name == "postgres" }
        let ids = Set(processes.map(\.0))
        // A server's root process is the one whose parent is not a postgres process: its reaped
        // children are backends that have exited.
        if let port {
            let roots = Set(processes.filter { !ids.contains($0.1.parent) && isStarted($0.0, onPort: port) }.map(\.0))
            if !roots.isEmpty { processes = processes.filter { roots.contains($0.0) || roots.contains($0.1.parent) } }
        }
        return processes.reduce(0) { total, entry in
            total + entry.1.own + (ids.contains(entry.1.parent) ? 0 : entry.1.reapedChildren)
        }
    }

    /// Whether the process's command line has `-p port`.
    static func isStarted(_ pid: Int32, onPort port: Int) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return zip(arguments, arguments.dropFirst()).contains { $0 == "-p" && $1 == "\(port)" }
    }
}
