import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `bridge` executable (built next to the benchmark) running as a child process on a free port,
/// for the benchmarks that measure it from outside. Sendable: the child process handle is only
/// touched under `lock`.
public final class BridgeProcess: @unchecked Sendable {
    public let directory: URL
    public let port: Int
    /// The `database.url` it serves.
    public let database: String
    let configFile: URL
    private let lock = NSLock()
    private var process: Process?

    /// `channels` is the YAML list of channel accounts; the server, database, admin token
    /// (`adminToken`) and `egress.allow` (loopback, where the stand-ins listen) are set here. `extra` is more top-level YAML.
    /// `database` is a `database.url` (default: `bridge.sqlite` in `directory`). Processes of one
    /// cluster share `directory` (the keys kept there) and are told apart by `name`, their config's name.
    /// `publicBaseURL`: where the platforms reach it (Twilio signs that URL), e.g. a load balancer's.
    public init(
        directory: URL, channels: String, database: String? = nil, name: String = "bridge", publicBaseURL: String? = nil, extra: String = ""
    ) throws {
        self.directory = directory
        self.port = try Self.freePort()
        self.database = database ?? "sqlite:\(directory.path)/bridge.sqlite"
        self.configFile = directory.appendingPathComponent("\(name).yaml")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = """
            server: { host: 127.0.0.1, port: \(port)\(publicBaseURL.map { ", publicBaseURL: \"\($0)\"" } ?? "") }
            database: { url: "\(self.database)" }
            auth: { adminToken: \(Self.adminToken) }
            egress: { allow: [127.0.0.1] }
            \(extra)
            channels:
            \(channels)
            """
        try config.write(to: configFile, atomically: true, encoding: .utf8)
    }

    public static let adminToken = "bench-admin-token-0123456789abcdef"

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var databasePath: String { directory.appendingPathComponent("bridge.sqlite").path }

    /// The `bridge` binary beside this executable.
    public static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("bridge")
    }

    /// `bridge migrate` on `database` (a `database.url`): creates or upgrades its schema.
    public static func migrate(_ database: String) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["migrate"]
        process.environment = ProcessInfo.processInfo.environment.merging(["BRIDGE_DATABASE_URL": database, "LOG_LEVEL": "error"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchmarkError("bridge migrate failed on \(database)") }
    }

    public func start() throws {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["serve", "--config", configFile.path]
        var environment = ProcessInfo.processInfo.environment
        environment["LOG_LEVEL"] = "error"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
    }

    /// Throws when the child has exited (a configuration it refused, a crash): a benchmark waiting for
    /// it to come up stops at once instead of waiting out its deadline.
    public func checkRunning() throws {
        guard let process = lock.withLock({ self.process }), !process.isRunning else { return }
        throw BenchmarkError("the bridge exited with status \(process.terminationStatus) before it was ready")
    }

    /// The running child's process id.
    public var pid: Int32? { lock.withLock { process?.processIdentifier } }

    /// SIGKILL: no shutdown code runs.
    public func kill() {
        guard let process = lock.withLock({ self.process.take() }) else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait for the graceful shutdown.
    public func stop() {
        guard let process = lock.withLock({ self.process.take() }) else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// CPU seconds (user and system) the child has used so far; nil when it is not running.
    public func cpuSeconds() -> Double? {
        guard let pid = lock.withLock({ process?.processIdentifier }) else { return nil }
        return ProcessCPU.read(pid)?.own
    }

    /// The child's peak resident memory so far (VmHWM), in bytes; nil when it is not running.
    public func peakMemoryBytes() -> Int? {
        guard let pid = lock.withLock({ process?.processIdentifier }),
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }

    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw BenchmarkError("could not find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A benchmark that could not measure what it set out to, and why.
public struct BenchmarkError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
