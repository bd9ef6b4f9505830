import Foundation
import PostgresNIO
import PostgresStore
import Testing
import UniversalInbox

/// `seconds` after the contract tests' moment zero.
private func at(_ seconds: TimeInterval) -> Date { Date(timeIntervalSince1970: 1_800_000_000 + seconds) }

/// `LeaseQueue` as every store must run it, on the real queue tables: ready rows are claimed in
/// order under expiring leases, never by two claimers at once; a leased row is claimed again only
/// when its lease has run out, and then its old holder's report changes nothing (`LeaseLost`); a
/// grouped queue (the outbox per ticket, webhook deliveries per webhook) has one row of each group
/// in flight at a time, in id order. Times are given, never waited for.
@Suite struct LeaseQueueContractTests {
    @Test(arguments: StoreKind.available)
    func claimTakesDueRowsInOrderUpToTheLimit(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let queues = stores.leaseQueues, rows = QueueFixtures(sql: stores.sql)
            // Jobs go by due time, then id.
            let b = try await rows.add(.jobs, due: at(0)), a = try await rows.add(.jobs, due: at(-5))
            let c = try await rows.add(.jobs, due: at(0)), later = try await rows.add(.jobs, due: at(10))
            #expect(try await queues.claim(.jobs, limit: 0, lease: 30, now: at(0)).isEmpty)
            #expect(try await queues.claim(.jobs, limit: 2, lease: 30, now: at(0)).map(\.id) == [a, b])
            #expect(try await queues.claim(.jobs, limit: 10, lease: 30, now: at(0)).map(\.id) == [c])
            #expect(try await queues.claim(.jobs, limit: 10, lease: 30, now: at(10)).map(\.id) == [later])
            #expect(try await queues.claim(.jobs, limit: 10, lease: 30, now: at(10)).isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func aLeasedRowIsClaimedAgainOnlyWhenItsLeaseRunsOut(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let queues = stores.leaseQueues, rows = QueueFixtures(sql: stores.sql)
            let id = try await rows.add(.jobs, due: at(0))
            let first = try #require(try await queues.claim(.jobs, limit: 10, lease: 30, now: at(0)).first)
            #expect(first.id == id)
            #expect(try await queues.claim(.jobs, limit: 10, lease: 30, now: at(29.999)).isEmpty)
            let second = try #require(try await queues.claim(.jobs, limit: 10, lease: 30, now: at(30)).first)
            #expect(second.id == id)
            #expect(second.until > first.until)
            #expect(try await rows.row(.jobs, id)?.leasedUntil == second.until)
        }
    }

    /// A holder that renews keeps the row past its first lease: nobody claims it meanwhile, the old
    /// lease is spent, and a renewal after another worker's claim is refused (the holder must not
    /// send what the other now holds). A lease that ran out unclaimed can still be renewed.
    @Test(arguments: StoreKind.available)
    func aRenewedLeaseHoldsTheRowAndAStaleOneCannotRenew(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let queues = stores.leaseQueues, rows = QueueFixtures(sql: stores.sql)
            let id = try await rows.add(.outbox, due: at(0))
            let first = try #require(try await queues.claim(.outbox, limit: 1, lease: 10, now: at(0)).first)
            let renewed = try await queues.renew(.outbox, first, for: 10, now: at(8))
            #expect(renewed.id == id && renewed.until == at(18).ms)
            #expect(try await rows.row(.outbox, id)?.leasedUntil == renewed.until)
            #expect(try await queues.claim(.outbox, limit: 1, lease: 10, now: at(12)).isEmpty)
            await #expect(throws: LeaseLost(table: "outbox", id: id)) { _ = try await queues.renew(.outbox, first, for: 10, now: at(12)) }
            await #expect(throws: LeaseLost(table: "outbox", id: id)) { try await queues.complete(.outbox, first, status: nil, error: nil) }
            // Ran out, nobody claimed it: still the holder's. A renewal never moves the end back.
            let late = try await queues.renew(.outbox, renewed, for: 10, now: at(20))
            #expect(late.until == at(30).ms)
            let early = try await queues.renew(.outbox, late, for: 1, now: at(21))
            #expect(early.until == late.until + 1)
            // Claimed by another worker once it ran out: the old holder can no longer renew it.
            let other = try #require(try await queues.claim(.outbox, limit: 1, lease: 10, now: at(40)).first)
            await #expect(throws: LeaseLost(table: "outbox", id: id)) { _ = try await queues.renew(.outbox, early, for: 10, now: at(41)) }
            #expect(try await rows.row(.outbox, id)?.leasedUntil == other.until)
            try await queues.complete(.outbox, other, status: nil, error: nil)
        }
    }

    /// A status queue keeps its rows: the stale holder may neither finish nor retry the row, nor
    /// revive it once its new holder has finished it.
    @Test(arguments: StoreKind.available)
    func aStaleHolderCannotReportOnARowClaimedSince(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let queues = stores.leaseQueues, rows = QueueFixtures(sql: stores.sql), queue = LeaseQueue.webhookDeliveries
            let id = try await rows.add(queue, due: at(0))
            let stale = try #require(try await queues.claim(queue, limit: 1, lease: 30, now: at(0)).first)
            let current = try #require(try await queues.claim(queue, limit: 1, lease: 30, now: at(30)).first)
            await #expect(throws: LeaseLost(table: "webhook_deliveries", id: id)) {
                try await queues.complete(queue, stale, status: "delivered", error: nil)
            }
            await #expect(throws: LeaseLost(table: "webhook_deliveries", id: id)) {
                try await queues.reschedule(queue, stale, at: at(31), error: "late")
            }
            #expect(try await rows.row(queue, id) == QueueRow(attempts: 0, leasedUntil: current.until, lastError: nil, status: "pending", due: at(0).ms))
            try await queues.complete(queue, current, status: "delivered", error: nil)
            #expect(try await rows.row(queue, id)?.status == "delivered")
            await #expect(throws: LeaseLost.self) { try await queues.reschedule(queue, stale, at: at(31), error: nil) }
            // Nor may the holder report twice.
            await #expect(throws: LeaseLost.self) { try await queues.complete(queue, current, status: "failed", error: nil) }
            #expect(try await rows.row(queue, id)?.status == "delivered")
        }
    }

    /// A deleting queue: the stale holder's completion deletes nothing.
    @Test(arguments: StoreKind.available)
    func aStaleHolderCannotDeleteARowClaimedSince(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let queues = stores.leaseQueues, rows = QueueFixtures(sql: stores.sql)
            let id = try await rows.add(.outbox, due: at(0))
            let stale = try #require(try await queues.claim(.outbox, limit: 1, lease: 120, now: at(0)).first)
            let current = try #require(try await queues.claim(.outbox, limit: 1, lease: 120, now: at(120)).first)
            await #expect(throws: LeaseLost(table: "outbox", id: id)) { try await queues.complete(.outbox, stale, status: nil, error: nil) }
            #expect(try await rows.row(.outbox, id) == QueueRow(attempts: 0, leasedUntil: current.until, lastError: nil, status: nil, due: at(0).ms))
            try await queues.complete(.outbox, current, status: nil, error: nil)
            #expect(try await rows.row(.outbox, id) == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func aHolderWhoseLeaseRanOutUnclaimedStillFinishes(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let queues = stores.leaseQueues, rows = QueueFixtures(sql: stores.sql)
            let id = try await rows.add(.jobs, due: at(0))
            let lease = try #require(try await queues.claim(.jobs, limit: 1, lease: 30, now: at(0)).first)
            // 300 s later, nobody has claimed it since.
            try await queues.complete(.jobs, lease, status: nil, error: nil)
            #expect(try await rows.row(.jobs, id) == nil)
            #expect(try await queues.claim(.jobs, limit: 10, lease: 30, now: at(300)).isEmpty)
        }
    }

    /// Alerts are due by `due_at`, not `next_attempt_at`.
    @Test(arguments: StoreKind.available)
    func rescheduleCountsAttemptsAndWaitsUntilTheNextTime(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let queues = stores.leaseQueues, rows = QueueFixtures(sql: stores.sql)
            let id = try await rows.add(.alerts, due: at(0))
            var now: TimeInterval = 0
            for attempt in 1...2 {
                let lease = try #require(try await queues.claim(.alerts, limit: 1, lease: 30, now: at(now)).first)
                try await queues.reschedule(.alerts, lease, at: at(now + 60), error: "boom \(attempt)")
                #expect(try await rows.row(.alerts, id) == QueueRow(
                    attempts: Int64(attempt), leasedUntil: nil, lastError: "boom \(attempt)", status: "pending", due: at(now + 60).ms))
                #expect(try await queues.claim(.alerts, limit: 1, lease: 30, now: at(now + 59)).isEmpty)
                now += 60
            }
            #expect(try await queues.claim(.alerts, limit: 1, lease: 30, now: at(now)).map(\.id) == [id])
        }
    }

    @Test(arguments: StoreKind.available)
    func finishedRowsLeaveTheQueue(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let queues = stores.leaseQueues, rows = QueueFixtures(sql: stores.sql)
            let id = try await rows.add(.alerts, due: at(0))
            let lease = try #require(try await queues.claim(.alerts, limit: 1, lease: 30, now: at(0)).first)
            try await queues.complete(.alerts, lease, status: "failed", error: "gone")
            #expect(try await rows.row(.alerts, id) == QueueRow(attempts: 1, leasedUntil: nil, lastError: "gone", status: "failed", due: at(0).ms))
            #expect(try await queues.claim(.alerts, limit: 10, lease: 30, now: at(3600)).isEmpty)
        }
    }

    /// Per group, only the oldest live row: a group's rows go one at a time and in order, even
    /// while the oldest waits for its retry, and a finished row that stays (a delivered webhook
    /// delivery) no longer holds its group back.
    @Test(arguments: StoreKind.available)
    func oneAtATimePerGroupInOrder(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let queues = stores.leaseQueues, rows = QueueFixtures(sql: stores.sql)
            for queue in [LeaseQueue.outbox, .webhookDeliveries] {
                let done: String? = if case .status = queue.finish { "delivered" } else { nil }
                let a = try await rows.group(queue), b = try await rows.group(queue)
                let a1 = try await rows.add(queue, due: at(0), group: a), a2 = try await rows.add(queue, due: at(0), group: a)
                let b1 = try await rows.add(queue, due: at(0), group: b)
                let claimed = try await queues.claim(queue, limit: 10, lease: 30, now: at(0))
                #expect(claimed.map(\.id) == [a1, b1], "\(queue.table)")
                #expect(try await queues.claim(queue, limit: 10, lease: 30, now: at(0)).isEmpty, "\(queue.table)")
                try await queues.complete(queue, claimed[1], status: done, error: nil)
                try await queues.reschedule(queue, claimed[0], at: at(60), error: "retry")
                #expect(try await queues.claim(queue, limit: 10, lease: 30, now: at(0)).isEmpty, "\(queue.table)")
                let retried = try await queues.claim(queue, limit: 10, lease: 30, now: at(60))
                #expect(retried.map(\.id) == [a1], "\(queue.table)")
                try await queues.complete(queue, try #require(retried.first), status: done, error: nil)
                #expect(try await queues.claim(queue, limit: 10, lease: 30, now: at(60)).map(\.id) == [a2], "\(queue.table)")
            }
        }
    }

    /// Eight claimers at once, each claim in its own transaction (on PostgreSQL each on its own
    /// connection): no row is handed out twice, and together they get every ready row.
    @Test(arguments: StoreKind.available)
    func concurrentClaimersNeverShareARow(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let queues = stores.leaseQueues, rows = QueueFixtures(sql: stores.sql)
            var ids: [Int64] = []
            for _ in 0..<200 { ids.append(try await rows.add(.jobs, due: at(0))) }
            let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var mine: [Int64] = []
                        // Bounded, so a queue that hands rows out twice fails instead of looping.
                        for _ in 0..<40 {
                            let batch = try await queues.claim(.jobs, limit: 7, lease: 30, now: at(0))
                            if batch.isEmpty { break }
                            mine += batch.map(\.id)
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0 += $1 }
            }
            #expect(claimed.count == 200)
            #expect(claimed.sorted() == ids)
        }
    }

    /// Eight senders at once work through six tickets' replies: no ticket ever has two replies in
    /// flight, each ticket's go in id order, and every reply goes exactly once.
    @Test(arguments: StoreKind.available)
    func oneAtATimePerGroupUnderConcurrentClaimers(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            let queues = stores.leaseQueues, rows = QueueFixtures(sql: stores.sql)
            var tickets: [Int64] = []
            for _ in 0..<6 { tickets.append(try await rows.group(.outbox)) }
            var ticketOf: [Int64: Int64] = [:]
            for _ in 0..<5 {
                for ticket in tickets { ticketOf[try await rows.add(.outbox, due: at(0), group: ticket)] = ticket }
            }
            let groups = ticketOf, inFlight = InFlight()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        // Bounded, so a queue that loses a row fails instead of looping.
                        for _ in 0..<2_000 {
                            if await inFlight.finished == groups.count { break }
                            let batch = try await queues.claim(.outbox, limit: 2, lease: 120, now: at(0))
                            if batch.isEmpty {
                                await Task.yield()
                                continue
                            }
                            // In flight from the claim's commit until just before the completion
                            // starts: within what the store sees, so any overlap is the store's.
                            for lease in batch { await inFlight.start(lease.id, group: groups[lease.id] ?? -1) }
                            for lease in batch {
                                await inFlight.finish(lease.id, group: groups[lease.id] ?? -1)
                                try await queues.complete(.outbox, lease, status: nil, error: nil)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(await inFlight.problems == [])
            #expect(await inFlight.started.sorted() == groups.keys.sorted())
            #expect(try await rows.count(.outbox) == 0)
        }
    }

    /// PostgreSQL only (SQLite has one writer, so no claim ever sees another in progress): while
    /// process A's claim is open — its rows locked, their leases not yet visible — process B's
    /// claim passes A's rows by without waiting for them, and takes nothing else of a group whose
    /// oldest row A holds.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func aClaimInProgressIsPassedByNotWaitedFor() async throws {
        try await Stores.with(.postgres) { stores throws in
            guard case .postgres(let client) = stores.sql else { return }
            let queues = stores.leaseQueues, rows = QueueFixtures(sql: stores.sql), logger = TestServer.logger
            var jobs: [Int64] = []
            for _ in 0..<6 { jobs.append(try await rows.add(.jobs, due: at(0))) }
            let ticket = try await rows.group(.outbox), otherTicket = try await rows.group(.outbox)
            let first = try await rows.add(.outbox, due: at(0), group: ticket)
            _ = try await rows.add(.outbox, due: at(0), group: ticket)
            let otherReply = try await rows.add(.outbox, due: at(0), group: otherTicket)

            let bDone = Flag()
            let (heldJobs, heldReplies, b, bWaited) = try await client.withTransaction(logger: logger) { a in
                let heldJobs = try await LeaseQueue.jobs.claim(on: a, limit: 3, lease: 30, now: at(0).ms, logger: logger)
                let heldReplies = try await LeaseQueue.outbox.claim(on: a, limit: 1, lease: 120, now: at(0).ms, logger: logger)
                let b = Task {
                    defer { bDone.set() }
                    return (
                        jobs: try await queues.claim(.jobs, limit: 10, lease: 30, now: at(0)),
                        replies: try await queues.claim(.outbox, limit: 10, lease: 120, now: at(0)))
                }
                // Until B has finished, or waits on a lock (then A commits, so that B can go on).
                var bWaited = false
                while !bDone.isSet && !bWaited {
                    bWaited = try await stores.sql.int64(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") > 0
                    if !bWaited { try await Task.sleep(for: .milliseconds(2)) }
                }
                return (heldJobs, heldReplies, b, bWaited)
            }
            let passed = try await b.value
            #expect(!bWaited, "B waited for A's locks instead of passing them by")
            #expect(heldJobs.map(\.id) == Array(jobs[0..<3]))
            #expect(passed.jobs.map(\.id) == Array(jobs[3...]))
            #expect(heldReplies.map(\.id) == [first])
            // Not the ticket's second reply: the first, which A holds, still leads its ticket.
            #expect(passed.replies.map(\.id) == [otherReply])

            // All leased now: nothing is ready until the leases run out.
            #expect(try await client.withConnection { try await LeaseQueue.jobs.hasReady(on: $0, now: at(29.999).ms, logger: logger) } == false)
            #expect(try await client.withConnection { try await LeaseQueue.jobs.hasReady(on: $0, now: at(30).ms, logger: logger) })
        }
    }
}

/// Which row of each group is in flight, to catch a second one starting beside it or out of order.
private actor InFlight {
    private var current: [Int64: Int64] = [:]
    private var lastStarted: [Int64: Int64] = [:]
    private(set) var problems: [String] = []
    private(set) var started: [Int64] = []
    private(set) var finished = 0

    func start(_ row: Int64, group: Int64) {
        if let other = current[group] { problems.append("row \(row) of group \(group) started while row \(other) was in flight") }
        if let last = lastStarted[group], last >= row { problems.append("row \(row) of group \(group) started after row \(last)") }
        current[group] = row
        lastStarted[group] = row
        started.append(row)
    }

    func finish(_ row: Int64, group: Int64) {
        if current[group] == row { current[group] = nil }
        finished += 1
    }
}
