import Foundation
import Logging
import PostgresNIO
import UniversalInbox

/// `FollowUpJobStore` on PostgreSQL, for several bridge processes on one database. Claims,
/// reschedules and completions go through the shared lease queue (`PostgresLeaseQueue.swift`,
/// `LeaseQueue.jobs`), so two processes claiming at once never get the same job, and a worker
/// whose lease ran out and whose job another has claimed since changes nothing (`LeaseLost`,
/// the whole transaction rolled back).
public struct PostgresFollowUpJobStore: FollowUpJobStore {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func claim(limit: Int, lease: TimeInterval, now: Date) async throws -> [FollowUpJob] {
        return try await LeaseQueue.jobs.claim(with: client, limit: limit, lease: lease, now: now, logger: logger) { connection, leases in
            let rows = try await connection.query("""
                SELECT j.id, j.kind, j.account, j.subject_id, j.attempts, a.media, m.content::jsonb ->> 'kind', i.platform_user_id
                FROM jobs j
                LEFT JOIN attachments a ON j.kind = 'media' AND a.id = j.subject_id
                LEFT JOIN messages m ON m.id = a.message_id
                LEFT JOIN identities i ON j.kind = 'profile' AND i.id = j.subject_id
                WHERE j.id = ANY(\(leases.map(\.id)))
                """, logger: logger)
            var byId: [Int64: (kind: String, account: String, subject: Int64, attempts: Int, media: String?, mediaKind: String?, user: String?)] = [:]
            for try await (id, kind, account, subject, attempts, media, mediaKind, user) in rows.decode(
                (Int64, String, String, Int64, Int, String?, String?, String?).self)
            {
                byId[id] = (kind, account, subject, attempts, media, mediaKind, user)
            }
            return try leases.compactMap { lease in
                guard let row = byId[lease.id] else { return nil }
                return try FollowUpJob(
                    lease: lease, kind: row.kind, account: row.account, subjectId: row.subject, attempts: row.attempts,
                    mediaJSON: row.media, mediaKind: row.mediaKind, platformUserId: row.user)
            }
        }
    }

    public func attachmentStored(_ job: FollowUpJob, path: String, mimeType: String?, size: Int, at now: Date) async throws {
        try await client.transaction(logger: logger) { connection in
            try await connection.query("""
                UPDATE attachments SET status = 'stored', path = \(path), mime_type = coalesce(\(mimeType), mime_type), size = \(Int64(size)),
                    updated_at = \(now.ms)
                WHERE id = \(job.subjectId)
                """, logger: logger)
            try await LeaseQueue.jobs.complete(on: connection, job.lease, logger: logger)
        }
    }

    /// The job is completed first (its row is only ever claimed with `SKIP LOCKED`, so holding it
    /// while waiting for the log's counter blocks no one), then the counter's lock (the lock order),
    /// then both names in one statement: the counter, which every ingest group needs, is held for
    /// two round trips rather than four, while each new customer's profile comes back.
    public func profileFetched(_ job: FollowUpJob, displayName: String?, at now: Date) async throws {
        try await client.transaction(logger: logger) { connection in
            try await LeaseQueue.jobs.complete(on: connection, job.lease, logger: logger)
            guard let displayName else { return }
            try await connection.lockEventLog(logger: logger)
            try await connection.query("""
                WITH named AS (UPDATE identities SET display_name = \(displayName) WHERE id = \(job.subjectId) RETURNING contact_id)
                UPDATE contacts SET display_name = coalesce(display_name, \(displayName)), updated_at = \(now.ms)
                WHERE id = (SELECT contact_id FROM named)
                """, logger: logger)
        }
    }

    public func failed(_ job: FollowUpJob, reason: String, at now: Date) async throws {
        try await client.transaction(logger: logger) { connection in
            if job.kind == .media {
                try await connection.query(
                    "UPDATE attachments SET status = 'failed', failure_reason = \(reason), updated_at = \(now.ms) WHERE id = \(job.subjectId)",
                    logger: logger)
            }
            try await LeaseQueue.jobs.complete(on: connection, job.lease, logger: logger)
        }
    }

    public func reschedule(_ job: FollowUpJob, at next: Date, error: String) async throws {
        try await client.transaction(logger: logger) { connection in
            try await LeaseQueue.jobs.reschedule(on: connection, job.lease, at: next.ms, error: error, logger: logger)
        }
    }
}
