import ArgumentParser
import BenchmarkSupport
import Foundation
import PlatformStandIns

/// `Benchmarks/broadcast`: campaigns sent by a release `bridge` process to local stand-ins for the
/// platform APIs. `run`: messages/s with limits off on WhatsApp (one request per message), the CPU
/// they took, the rate achieved under an 80/s limit, and the bridge's peak memory for two audience
/// sizes, every recipient checked reached exactly once; on a SQLite file, or with `--database
/// postgres://…` on PostgreSQL, where `--processes N` measures 1 process, then N behind nginx.
/// `crash`: a SIGKILL mid-campaign, a restart, and a check that every recipient got the message exactly once.
@main
struct BroadcastBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadcast-benchmark", abstract: "Campaign throughput, rate limiting, memory and crash safety.",
        subcommands: [Run.self, Crash.self], defaultSubcommand: Run.self)

    struct Run: AsyncParsableCommand {
        @Flag(help: "2,000 and 10,000 recipients instead of 10,000 and 100,000; a shorter rate window.") var quick = false
        @OptionGroup var cluster: ClusterOptions
        var database: String? { cluster.database }
        var processes: Int { cluster.processes }

        func run() async throws {
            let sizes = quick ? [2_000, 10_000] : [10_000, 100_000]
            for count in cluster.counts {
                say("broadcast benchmark: \(serving(count)), \(ProcessInfo.processInfo.activeProcessorCount) cores\(quick ? " (quick)" : "")")
                var peaks: [Int] = []
                for size in sizes {
                    let result = try await Harness.campaign(Audience(line: 0, whatsapp: size), whatsappRate: nil, database: database, processes: count)
                    peaks.append(result.peakMemory)
                    say(String(
                        format: "%7d recipients, limits off: %6.0f messages/s (%d sent in %.2f s), bridge peak memory %.1f MB",
                        size, Double(result.sent) / result.seconds, result.sent, result.seconds, Double(result.peakMemory) / 1_048_576))
                    say("        " + cpuPerThousand(result.cpu, messages: result.sent) + sentBy(result.sentBy))
                }
                let growth = Double(peaks[1]) / Double(peaks[0]) - 1
                say(String(format: "peak memory at %d vs %d recipients: %+.1f%% (streamed, not loaded: target within 20%%)", sizes[1], sizes[0], growth * 100))
            }
            let window: Duration = quick ? .seconds(5) : .seconds(15)
            let audience = Audience(line: 0, whatsapp: quick ? 1_000 : 3_000)
            // With several processes, individual messages too, which every process sends from its outbox.
            let replies = processes == 1 ? 0 : audience.whatsapp / 2
            let limited = try await Harness.rateLimited(audience, perSecond: 80, window: window, replies: replies, database: database, processes: processes)
            if processes == 1 {
                say(String(format: "WhatsApp limited to 80/s: %.1f messages/s over %.0f s (%+.1f%%; target within 5%%)", limited.rate, window.seconds, (limited.rate / 80 - 1) * 100))
            } else {
                say(String(
                    format: "WhatsApp limited to 80/s, %d bridges sending a campaign and %d individual messages: %.1f messages/s over %.0f s cluster-wide (%+.1f%%; target within 5%%)",
                    processes, replies, limited.rate, window.seconds, (limited.rate / 80 - 1) * 100))
                say("        " + cpuPerThousand(limited.cpu, messages: audience.whatsapp + replies) + sentBy(limited.sentBy))
            }
            say("every recipient reached exactly once in every run")
        }

        func serving(_ count: Int) -> String {
            count == 1 ? "one bridge on \(database == nil ? "SQLite" : "PostgreSQL")" : "\(count) bridges on PostgreSQL behind nginx"
        }

        /// With several processes, what each sent (one holds the campaigns duty and sends the campaign; every one sends from the outbox).
        func sentBy(_ sent: [Harness.Sent]) -> String {
            guard sent.count > 1 else { return "" }
            return "; sent by " + sent.enumerated().map { n, sent in
                "bridge-\(n + 1) \(sent.campaign)" + (sent.individual > 0 ? " + \(sent.individual) individual" : "")
            }.joined(separator: ", ")
        }

        /// CPU seconds per 1,000 messages in the bridges (each process's share, which shows who sent) and PostgreSQL.
        func cpuPerThousand(_ cpu: Harness.CPU, messages: Int) -> String {
            let per = 1_000 / Double(max(messages, 1))
            let total = cpu.bridges.reduce(0, +)
            var line = String(format: "CPU s per 1,000 messages: bridges %.3f", total * per)
            if cpu.bridges.count > 1 {
                line += " (" + cpu.bridges.enumerated().map { String(format: "bridge-%d %.3f", $0.offset + 1, $0.element * per) }.joined(separator: ", ") + ")"
            }
            if database != nil { line += String(format: ", PostgreSQL %.3f", cpu.postgres * per) }
            return line
        }
    }

    struct Crash: AsyncParsableCommand {
        @Flag(help: "5,000 recipients instead of 20,000.") var quick = false

        func run() async throws {
            let recipients = quick ? 5_000 : 20_000
            let harness = try await Harness.start(Audience(line: recipients, whatsapp: 0), whatsappRate: nil)
            say("crash test: \(recipients) LINE recipients, personalised text (one push each, under its retry key)")
            let id = try await harness.createCampaign(#"{"name":"crash","audience":{"channel":"line"},"channel":"line","content":{"text":"Hi {{contact.name|there}}, a flash sale"},"start":true}"#)
            while harness.line.requests(to: "/v2/bot/message/push").count < recipients / 3 { try await Task.sleep(for: .milliseconds(5)) }
            harness.bridge.kill()
            let atKill = harness.line.requests(to: "/v2/bot/message/push").count
            say("  SIGKILL after \(atKill) pushes")
            try harness.bridge.start()
            try await harness.waitUntilHealthy()
            let final = try await harness.waitForCampaign(id, timeout: .seconds(600))
            let pushes = harness.line.requests(to: "/v2/bot/message/push")
            var keysByUser: [String: Set<String>] = [:]
            for push in pushes {
                guard let key = push.headers["x-line-retry-key"], let to = (push.json as? [String: Any])?["to"] as? String else { continue }
                keysByUser[to, default: []].insert(key)
            }
            let reached = keysByUser.count
            let doubled = keysByUser.values.filter { $0.count > 1 }.count
            let resends = pushes.count - keysByUser.values.reduce(0) { $0 + $1.count }
            say("  after restart: campaign \(final.status), \(final.sent) sent, \(final.failed) failed; \(reached) of \(recipients) customers reached, \(doubled) under two keys, \(resends) resends under the same key (LINE answers 409: no second delivery)")
            try await harness.stop()
            guard reached == recipients, doubled == 0, final.sent == recipients else {
                throw BenchmarkError("crash test failed: reached \(reached) of \(recipients), \(doubled) doubled, \(final.sent) sent")
            }
            say("crash test: passed (every recipient exactly once)")
        }
    }
}
