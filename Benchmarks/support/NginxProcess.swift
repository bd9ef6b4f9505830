import Foundation

/// nginx (Debian's) running `deploy/nginx/bridge.conf`, the configuration README gives for several
/// bridge processes, with its listening port and upstream servers replaced by the benchmark's own.
public final class NginxProcess: @unchecked Sendable {
    public let port: Int
    let directory: URL
    private let lock = NSLock()
    private var process: Process?

    /// `configuration`: the repository's `deploy/nginx/bridge.conf`; `upstreams`: the bridges' ports.
    /// `port`: where nginx listens (default: a free one).
    public init(configuration: URL, upstreams: [Int], directory: URL, port: Int? = nil) throws {
        self.port = try port ?? BridgeProcess.freePort()
        self.directory = directory
        var text = try String(contentsOf: configuration, encoding: .utf8)
        let servers = text.split(separator: "\n", omittingEmptySubsequences: false).filter { $0.contains("server 127.0.0.1:") }
        guard let first = servers.first, text.contains("listen 127.0.0.1:8080;") else {
            throw BenchmarkError("\(configuration.path) no longer has the `listen 127.0.0.1:8080;` and `server 127.0.0.1:…` lines this benchmark replaces")
        }
        let address = first.split(separator: " ").first { $0.hasPrefix("127.0.0.1:") }.map(String.init) ?? ""
        let ours = upstreams.map { first.replacingOccurrences(of: address, with: "127.0.0.1:\($0)") }
        text = text.replacingOccurrences(of: servers.joined(separator: "\n"), with: ours.joined(separator: "\n"))
        text = text.replacingOccurrences(of: "listen 127.0.0.1:8080;", with: "listen 127.0.0.1:\(self.port);")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        try text.write(to: directory.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
    }

    /// The repository's configuration, found from the working directory (the benchmarks run from the checkout).
    public static var repositoryConfiguration: URL {
        URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("deploy/nginx/bridge.conf")
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        process.arguments = ["-p", directory.path + "/", "-c", directory.appendingPathComponent("nginx.conf").path]
        process.standardOutput = FileHandle.nullDevice
        // Its log in its directory: a child holding the caller's stderr would keep a pipe open after the caller exits.
        let log = directory.appendingPathComponent("error.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        lock.withLock { self.process = process }
    }

    public func stop() {
        guard let process = lock.withLock({ self.process.take() }) else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// CPU seconds nginx's master and (exited) workers used, plus its live workers'.
    public func cpuSeconds() -> Double {
        guard let pid = lock.withLock({ process?.processIdentifier }), let master = ProcessCPU.read(pid) else { return 0 }
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init)
        let workers = pids.compactMap { ProcessCPU.read($0) }.filter { $0.parent == pid }
        return master.own + master.reapedChildren + workers.reduce(0) { $0 + $1.own }
    }
}
