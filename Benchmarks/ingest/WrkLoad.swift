import BenchmarkSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Debian's `wrk` as the load generator: a C client on epoll that is not the limit here (the
/// benchmark's own Swift client tops out far below the server's `/health` ceiling on this machine,
/// which made the ingest ratio look better than it was). `/health` and ingest are measured with
/// the same threads and connections against the same server, so their ratio is honest.
struct WrkLoad {
    let executable: URL
    let threads: Int
    let connections: Int

    /// `wrk` on the PATH, or nil (the benchmark falls back to its own client).
    static func find(threads: Int, connections: Int) -> WrkLoad? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("wrk")
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                return WrkLoad(executable: candidate, threads: threads, connections: connections)
            }
        }
        return nil
    }

    struct Result {
        var requests: Int
        var seconds: Double
        /// Answers with a status of 400 or more.
        var refused: Int
        var socketErrors: Int
        var timeouts: Int
        var p50: Double, p99: Double, max: Double  // milliseconds
        /// Bodies in the file, and how far past its share of them the busiest wrk thread went: a run
        /// that went round the file again sent duplicates (cheap to answer) and does not count.
        var bodies: Int
        var overshoot: Int
        /// CPU seconds wrk itself used (it shares the machine with the bridge).
        var cpuSeconds: Double
        /// The machine's idle and stolen shares over the run (its start, reading the bodies, included).
        var machine: (idle: Double, steal: Double)?

        var acknowledged: Int { requests - refused }
        var rate: Double { Double(acknowledged) / seconds }
        var wrapped: Bool { bodies > 0 && overshoot > 0 }
        var summary: String {
            String(format: "p50 %.2f ms, p99 %.2f ms, max %.2f ms", p50, p99, max)
        }
    }

    /// `GET url` for `seconds`, or with `bodies` (a file from `LoadPlan.writeSigned`) each line POSTed
    /// once, the file shared out between wrk's threads.
    func run(url: String, seconds: Int, bodies: URL? = nil, in directory: URL) throws -> Result {
        let script = directory.appendingPathComponent("load.lua")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = executable
        process.arguments = [
            "--threads", "\(threads)", "--connections", "\(connections)", "--duration", "\(seconds)s", "--timeout", "30s",
            "--script", script.path, url, "--", bodies?.path ?? "", "\(threads)",
        ]
        let output = Pipe()
        process.standardOutput = output
        let before = Self.childrenCPUSeconds()
        let machineBefore = ProcessCPU.Machine.read()
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let machine = ProcessCPU.Machine.shares(from: machineBefore, to: ProcessCPU.Machine.read())
        let cpu = Self.childrenCPUSeconds() - before
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0, let line = text.split(separator: "\n").first(where: { $0.hasPrefix("wrk-result ") }) else {
            throw BenchmarkError("wrk failed (status \(process.terminationStatus)): \(text)")
        }
        var fields: [String: Double] = [:]
        for pair in line.split(separator: " ").dropFirst() {
            let parts = pair.split(separator: "=")
            if parts.count == 2 { fields[String(parts[0])] = Double(parts[1]) }
        }
        func value(_ key: String) -> Double { fields[key] ?? 0 }
        return Result(
            requests: Int(value("requests")), seconds: value("duration_us") / 1e6, refused: Int(value("status_errors")),
            socketErrors: Int(value("socket_errors")), timeouts: Int(value("timeouts")),
            p50: value("p50_us") / 1000, p99: value("p99_us") / 1000, max: value("max_us") / 1000,
            bodies: Int(value("bodies")), overshoot: Int(value("overshoot")), cpuSeconds: cpu, machine: machine)
    }

    /// CPU seconds of the child processes that have ended (wrk, once it is waited for).
    static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// wrk's script: with a bodies file, thread k of n pre-formats lines k, k+n, k+2n, ... as signed
    /// LINE webhook POSTs and sends them in turn; without one, wrk's own GET. `done` prints one
    /// `wrk-result` line for the benchmark to read.
    static let script = #"""
        local threads = {}
        local next_id = 0

        function setup(thread)
          thread:set("id", next_id)
          next_id = next_id + 1
          table.insert(threads, thread)
        end

        function init(args)
          sent = 0
          count = 0
          local file, n = args[1], tonumber(args[2])
          if file == nil or file == "" then return end
          prepared = {}
          local i = 0
          for line in io.lines(file) do
            if i % n == id then
              local tab = line:find("\t", 1, true)
              count = count + 1
              prepared[count] = wrk.format("POST", nil,
                { ["Content-Type"] = "application/json", ["X-Line-Signature"] = line:sub(1, tab - 1) },
                line:sub(tab + 1))
            end
            i = i + 1
          end
          request = function()
            sent = sent + 1
            return prepared[(sent - 1) % count + 1]
          end
        end

        function done(summary, latency, requests)
          local overshoot, bodies = 0, 0
          for _, thread in ipairs(threads) do
            bodies = bodies + thread:get("count")
            if thread:get("count") > 0 then overshoot = math.max(overshoot, thread:get("sent") - thread:get("count")) end
          end
          local e = summary.errors
          io.write(string.format(
            "wrk-result requests=%d duration_us=%d status_errors=%d socket_errors=%d timeouts=%d p50_us=%d p99_us=%d max_us=%d bodies=%d overshoot=%d\n",
            summary.requests, summary.duration, e.status, e.connect + e.read + e.write, e.timeout,
            latency:percentile(50), latency:percentile(99), latency.max, bodies, overshoot))
        end
        """#
}
