import ChannelKit
import Foundation
import PostgresStore
import Testing
import UniversalInbox

/// `seconds` after the contract tests' moment zero.
private func at(_ seconds: TimeInterval) -> Date { Date(timeIntervalSince1970: 1_800_000_000 + seconds) }

/// `FollowUpJobStore` as every implementation must keep it: a claim leases due jobs, oldest due
/// first, once, with what the worker needs; finishing a job records its result and takes it out of
/// the queue; a retry waits until it is due; a worker whose job was claimed again after its lease
/// ran out changes nothing. Times are given, never waited for.
@Suite struct FollowUpJobContractTests {
    /// Kim (LINE U1, no name yet) sent an image (message 3, attachment 5, pending).
    static let fixture = [
        "INSERT INTO contacts (id, display_name, created_at, updated_at) VALUES (1, NULL, 1, 1)",
        "INSERT INTO identities (id, contact_id, account, channel, platform_user_id, created_at) VALUES (1, 1, 'line/main', 'line', 'U1', 1)",
        "INSERT INTO tickets (id, contact_id, status, last_identity_id, created_at, updated_at) VALUES (2, 1, 'new', 1, 1, 1)",
        """
        INSERT INTO messages (id, ticket_id, identity_id, direction, channel, account, content, text, status, idempotency_key, created_at, updated_at)
        VALUES (3, 2, 1, 'in', 'line', 'line/main', '{"kind":"image","media":{"platformId":"m9"}}', 'A photo', 'received', 'k1', 2, 2)
        """,
        """
        INSERT INTO attachments (id, message_id, account, media, status, created_at, updated_at)
        VALUES (5, 3, 'line/main', '{"platformId":"m9"}', 'pending', 2, 2)
        """,
    ]

    static func job(_ sql: PlainSQL, _ kind: FollowUpKind, subject: Int64, due: Date) async throws -> Int64 {
        try await sql.int64("""
            INSERT INTO jobs (kind, account, subject_id, next_attempt_at) VALUES ('\(kind.rawValue)', 'line/main', \(subject), \(due.ms)) RETURNING id
            """)
    }

    @Test(arguments: StoreKind.available)
    func aClaimLeasesDueJobsOnceWithWhatTheWorkerNeeds(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let jobs = stores.followUpJobStore
            let profile = try await Self.job(stores.sql, .profile, subject: 1, due: at(1))
            let media = try await Self.job(stores.sql, .media, subject: 5, due: at(0))
            _ = try await Self.job(stores.sql, .media, subject: 5, due: at(100))

            let claimed = try await jobs.claim(limit: 10, lease: 60, now: at(5))
            #expect(claimed.map(\.id) == [media, profile])
            #expect(claimed.map(\.kind) == [.media, .profile])
            #expect(claimed[0].media == MediaReference(platformId: "m9"))
            #expect(claimed[0].mediaKind == .image)
            #expect(claimed[0].platformUserId == nil)
            #expect(claimed[1].platformUserId == "U1")
            #expect(claimed[1].media == nil)
            #expect(claimed.allSatisfy { $0.account == "line/main" && $0.attempts == 0 })
            // Leased: not handed out again while the lease runs; the later job is not due yet.
            #expect(try await jobs.claim(limit: 10, lease: 60, now: at(6)).isEmpty)

            try await jobs.attachmentStored(claimed[0], path: "/files/5", mimeType: "image/png", size: 12, at: at(7))
            #expect(try await stores.sql.rows("SELECT status, path, mime_type, size, updated_at FROM attachments WHERE id = 5") == [
                [.text("stored"), .text("/files/5"), .text("image/png"), .int(12), .int(at(7).ms)]
            ])
            try await jobs.profileFetched(claimed[1], displayName: "Kim", at: at(8))
            #expect(try await stores.sql.rows("SELECT display_name FROM identities WHERE id = 1") == [[.text("Kim")]])
            #expect(try await stores.sql.rows("SELECT display_name, updated_at FROM contacts WHERE id = 1") == [[.text("Kim"), .int(at(8).ms)]])
            #expect(try await stores.sql.rows("SELECT id FROM jobs WHERE id IN (\(media), \(profile))").isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func aRetryWaitsAndAFailureMarksTheAttachment(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let jobs = stores.followUpJobStore
            let id = try await Self.job(stores.sql, .media, subject: 5, due: at(0))
            let first = try #require(try await jobs.claim(limit: 10, lease: 60, now: at(0)).first)
            try await jobs.reschedule(first, at: at(30), error: "timed out")
            #expect(try await stores.sql.rows("SELECT CAST(attempts AS BIGINT), last_error, leased_until FROM jobs WHERE id = \(id)") == [
                [.int(1), .text("timed out"), .null]
            ])
            #expect(try await jobs.claim(limit: 10, lease: 60, now: at(29)).isEmpty)
            let second = try #require(try await jobs.claim(limit: 10, lease: 60, now: at(30)).first)
            #expect(second.id == id && second.attempts == 1)
            try await jobs.failed(second, reason: "gone", at: at(31))
            #expect(try await stores.sql.rows("SELECT status, failure_reason, updated_at FROM attachments WHERE id = 5") == [
                [.text("failed"), .text("gone"), .int(at(31).ms)]
            ])
            #expect(try await stores.sql.rows("SELECT id FROM jobs").isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func aWorkerWhoseJobWasClaimedAgainChangesNothing(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { stores throws in
            for sql in Self.fixture { try await stores.sql.execute(sql) }
            let jobs = stores.followUpJobStore
            _ = try await Self.job(stores.sql, .media, subject: 5, due: at(0))
            _ = try await Self.job(stores.sql, .profile, subject: 1, due: at(0))
            let late = try await jobs.claim(limit: 10, lease: 60, now: at(0))
            let again = try await jobs.claim(limit: 10, lease: 60, now: at(61))
            #expect(again.map(\.id) == late.map(\.id))
            await #expect(throws: LeaseLost.self) { try await jobs.attachmentStored(late[0], path: "/files/5", mimeType: nil, size: 1, at: at(62)) }
            await #expect(throws: LeaseLost.self) { try await jobs.profileFetched(late[1], displayName: "Stale", at: at(62)) }
            await #expect(throws: LeaseLost.self) { try await jobs.failed(late[0], reason: "late", at: at(62)) }
            await #expect(throws: LeaseLost.self) { try await jobs.reschedule(late[0], at: at(90), error: "late") }
            #expect(try await stores.sql.rows("SELECT status FROM attachments WHERE id = 5") == [[.text("pending")]])
            #expect(try await stores.sql.rows("SELECT display_name FROM identities WHERE id = 1") == [[.null]])
            #expect(try await stores.sql.rows("SELECT display_name FROM contacts WHERE id = 1") == [[.null]])
            // The new holder finishes them.
            try await jobs.attachmentStored(again[0], path: "/files/5", mimeType: nil, size: 1, at: at(63))
            try await jobs.profileFetched(again[1], displayName: "Kim", at: at(63))
            #expect(try await stores.sql.rows("SELECT id FROM jobs").isEmpty)
        }
    }

    /// Two bridge processes working the queue as fast as they can: each job is claimed by exactly
    /// one of them, once.
    @Test(.enabled(if: TestServer.available, TestServer.skipReason))
    func twoProcessesClaimEachJobExactlyOnce() async throws {
        try await Stores.withPostgresProcesses(2) { processes in
            for sql in Self.fixture { try await processes[0].sql.execute(sql) }
            let count = 60
            try await processes[0].sql.execute("""
                INSERT INTO jobs (kind, account, subject_id, next_attempt_at) SELECT 'profile', 'line/main', 1, n FROM generate_series(1, \(count)) n
                """)
            let claims: [[Int64]] = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for process in processes {
                    group.addTask {
                        var claimed: [Int64] = []
                        var rounds = 0
                        while try await processes[0].sql.int64("SELECT count(*) FROM jobs") > 0 {
                            rounds += 1
                            guard rounds <= 10_000 else {
                                Issue.record("the queue never emptied")
                                break
                            }
                            let batch = try await process.followUpJobStore.claim(limit: 3, lease: 60, now: at(0))
                            claimed += batch.map(\.id)
                            for job in batch { try await process.followUpJobStore.failed(job, reason: "no profile", at: at(1)) }
                        }
                        return claimed
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let all = claims.flatMap { $0 }
            #expect(all.count == count, "\(all.count) claims of \(count) jobs")
            #expect(Set(all).count == count)
        }
    }
}
