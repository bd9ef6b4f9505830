import ArgumentParser
import AsyncHTTPClient
import BenchmarkSupport
import Foundation
import NIOCore
import NIOHTTP1
import PlatformStandIns

/// The cluster test (issue 12): nginx (`deploy/nginx/bridge.conf`) in front of two `bridge serve`
/// processes on one PostgreSQL. Signed webhooks for every channel go through nginx, agents reply to
/// every ticket and a LINE campaign runs, sent by both; the process holding the `campaigns` duty is
/// SIGKILLed mid-run.
/// Then: every acknowledged event is stored once, every reply sent once (LINE by its retry key; the
/// others at least once, as the dispatcher guarantees, and never lost), the campaign completes with
/// every recipient reached once, and an agent on one process saw what arrived at the other, live.
@main
struct ClusterTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster-test", abstract: "Two bridges on one PostgreSQL behind nginx; one SIGKILLed mid-run; nothing lost or doubled.")

    @Option(help: "A PostgreSQL server's URL (postgres://…); the test creates a database of its own there.") var database: String
    @Flag(help: "Fewer customers and campaign recipients (CI).") var quick = false

    func run() async throws {
        let customers = quick ? 6 : 20, messages = quick ? 3 : 5, audience = quick ? 150 : 600
        let cluster = try await Cluster.start(postgres: database)
        do {
            try await exercise(cluster, customers: customers, messages: messages, audience: audience)
        } catch {
            try? await cluster.stop()
            throw error
        }
        try await cluster.stop()
    }

    func exercise(_ cluster: Cluster, customers: Int, messages: Int, audience: Int) async throws {
        let traffic = Traffic(seed: cluster.seed, customers: customers, publicBaseURL: cluster.nginx.baseURL)
        say("cluster test: 2 bridges on PostgreSQL behind nginx at \(cluster.nginx.baseURL); \(Traffic.channels.count) channels × \(customers) customers × \(messages) messages, a LINE campaign to \(audience + customers)")

        // Live across processes: an agent's socket on bridge 2 sees a customer who wrote to bridge 1.
        let watcher = try await LiveSocket.open(cluster.bridges[1].baseURL, token: BridgeProcess.adminToken)
        let started = ContinuousClock.now
        let first = traffic.webhook(channel: "line", customer: 0, message: 0)
        guard try await cluster.post(first, to: cluster.bridges[0].baseURL) == 200 else { throw BenchmarkError("bridge 1 refused a signed webhook") }
        let opened = try await watcher.next { $0["type"] as? String == "ticket_opened" }
        say(String(format: "  live: a ticket opened at bridge 1 reached an agent on bridge 2 in %.0f ms", (ContinuousClock.now - started).seconds * 1000))
        guard let watchedTicket = opened["ticketId"] as? Int else { throw BenchmarkError("ticket_opened without a ticketId: \(opened)") }

        // Typing on bridge 1 is seen on bridge 2.
        let typist = try await LiveSocket.open(cluster.bridges[0].baseURL, token: BridgeProcess.adminToken)
        let typingAt = ContinuousClock.now
        try await typist.send(#"{"type":"typing","ticketId":\#(watchedTicket)}"#)
        _ = try await watcher.next { message in
            message["type"] as? String == "presence" && message["ticketId"] as? Int == watchedTicket
                && ((message["agents"] as? [[String: Any]]) ?? []).contains { $0["state"] as? String == "typing" }
        }
        say(String(format: "  live: typing on bridge 1 reached bridge 2 in %.0f ms", (ContinuousClock.now - typingAt).seconds * 1000))
        typist.close()

        // Every customer's first message, and the campaign's audience (LINE customers who wrote once).
        var acknowledged = Set([traffic.platformMessageId(channel: "line", customer: 0, message: 0)])
        var firsts = Traffic.channels.flatMap { channel in (0..<customers).map { (channel, $0, 0) } }.filter { !($0.0 == "line" && $0.1 == 0) }
        firsts += (0..<audience).map { ("line", customers + $0, 0) }
        acknowledged.formUnion(try await cluster.deliver(firsts.map { traffic.webhook(channel: $0.0, customer: $0.1, message: $0.2) }, ids: firsts.map {
            traffic.platformMessageId(channel: $0.0, customer: $0.1, message: $0.2)
        }))
        let tickets = try cluster.tickets()
        guard tickets.count == Traffic.channels.count * customers + audience else {
            throw BenchmarkError("expected \(Traffic.channels.count * customers + audience) tickets, found \(tickets.count)")
        }

        // The campaign, the agents' replies, and the customers' later messages, all at once; the
        // process holding the `campaigns` duty is killed a third of the way through the campaign's sends.
        let campaign = try await cluster.createCampaign(audience: audience + customers)
        var replies: [Int: String] = [:]
        for ticket in tickets.prefix(Traffic.channels.count * customers) {
            // Ended by a full stop, so one reply's text is never the start of another's (the sends are
            // found by the text they carry: "reply-…-1" was also found in "reply-…-12").
            let text = "reply-\(cluster.seed)-\(ticket)."
            guard try await cluster.api(.POST, "/api/v1/tickets/\(ticket)/messages", #"{"text":"\#(text)"}"#).status == 202 else {
                throw BenchmarkError("the reply to ticket \(ticket) was refused")
            }
            replies[ticket] = text
        }
        let later = Traffic.channels.flatMap { channel in (0..<customers).flatMap { customer in (1..<messages).map { (channel, customer, $0) } } }
        let lateDelivery = Task {
            try await cluster.deliver(later.map { traffic.webhook(channel: $0.0, customer: $0.1, message: $0.2) }, ids: later.map {
                traffic.platformMessageId(channel: $0.0, customer: $0.1, message: $0.2)
            })
        }
        let victim = try await cluster.killCampaignHolder(whenPushed: (audience + customers) / 3)
        say("  SIGKILLed bridge \(victim + 1) (it held the campaigns duty; both were sending) after \(cluster.line.requests(to: "/v2/bot/message/push").count) pushes")
        acknowledged.formUnion(try await lateDelivery.value)

        // The survivor finishes: the campaign, the outbox.
        let final = try await cluster.waitForCampaign(campaign)
        try await cluster.waitForEmptyOutbox()

        // Every acknowledged event stored once.
        let stored = try PostgresCLI.query(
            cluster.database, "SELECT channel || ':' || platform_message_id, count(*) FROM messages WHERE direction = 'in' GROUP BY 1")
        let storedIds = Set(stored.map { $0[0] })
        let doubled = stored.filter { $0[1] != "1" }.count
        let lost = acknowledged.subtracting(storedIds)
        say("  events: \(acknowledged.count) acknowledged, \(storedIds.count) stored, \(lost.count) lost, \(doubled) stored twice")

        // Every reply sent: LINE under one retry key; the others at least once.
        let sends = cluster.replySends(replies.values)
        let unsent = replies.values.filter { (sends[$0]?.requests ?? 0) == 0 }
        let lineTwiceKeyed = sends.values.filter { $0.retryKeys > 1 }.count
        let resent = sends.values.filter { $0.requests > 1 }.count
        say("  replies: \(replies.count) queued, \(replies.count - unsent.count) sent, \(unsent.count) unsent, \(resent) sent again after the kill (same idempotency key), \(lineTwiceKeyed) LINE replies under two retry keys")

        // The campaign: complete, every recipient once.
        let pushes = cluster.line.requests(to: "/v2/bot/message/push").filter { $0.text.contains("cluster sale") }
        var keysByUser: [String: Set<String>] = [:]
        for push in pushes {
            guard let key = push.headers["x-line-retry-key"], let to = (push.json as? [String: Any])?["to"] as? String else { continue }
            keysByUser[to, default: []].insert(key)
        }
        let reached = keysByUser.count, twice = keysByUser.values.filter { $0.count > 1 }.count
        say("  campaign: \(final.status), \(final.sent) sent, \(final.failed) failed; \(reached) of \(audience + customers) customers reached, \(twice) under two retry keys")

        guard lost.isEmpty, doubled == 0, unsent.isEmpty, lineTwiceKeyed == 0, final.status == "completed", reached == audience + customers, twice == 0,
            final.sent == audience + customers
        else { throw BenchmarkError("cluster test failed") }
        say("cluster test: passed")
    }
}
