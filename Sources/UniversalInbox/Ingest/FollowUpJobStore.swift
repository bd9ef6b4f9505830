import ChannelKit
import Foundation
import GRDB

/// The follow-up jobs ingest queues (`LeaseQueue.jobs`: media downloads, profile look-ups) and what
/// finishing one records. One implementation per database (`SQLiteFollowUpJobStore` below,
/// `PostgresFollowUpJobStore` in PostgresStore), held to one contract (Tests/StoreTests). Claims,
/// reschedules and completions go through the shared lease queue; each method is one transaction
/// with no policy, and times are passed in.
public protocol FollowUpJobStore: Sendable {
    /// Leases up to `limit` due jobs at `now` for `lease` seconds, oldest due first, with what the
    /// worker needs (the attachment's media, the identity's platform user id).
    func claim(limit: Int, lease: TimeInterval, now: Date) async throws -> [FollowUpJob]
    /// Marks the media job's attachment stored at `path` and finishes the job. `LeaseLost`, changing
    /// nothing, if another worker has claimed the job since.
    func attachmentStored(_ job: FollowUpJob, path: String, mimeType: String?, size: Int, at now: Date) async throws
    /// Gives the profile job's identity its display name (and its contact, if it has none) and
    /// finishes the job. `LeaseLost` as above.
    func profileFetched(_ job: FollowUpJob, displayName: String?, at now: Date) async throws
    /// Finishes the job unsuccessfully; a media job's attachment is marked failed with `reason`.
    /// `LeaseLost` as above.
    func failed(_ job: FollowUpJob, reason: String, at now: Date) async throws
    /// Another attempt at `next`. `LeaseLost` as above.
    func reschedule(_ job: FollowUpJob, at next: Date, error: String) async throws
}

/// `FollowUpJobStore` on the SQLite database.
public struct SQLiteFollowUpJobStore: FollowUpJobStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    public func claim(limit: Int, lease: TimeInterval, now: Date) async throws -> [FollowUpJob] {
        let queue = LeaseQueue.jobs
        // A read first, so an idle worker's poll costs no write.
        guard try await database.pool.read({ db in try queue.hasReady(db, now: now.ms) }) else { return [] }
        return try await database.pool.write { db in
            let leases = try queue.claim(db, limit: limit, lease: lease, now: now.ms)
            guard !leases.isEmpty else { return [] }
            return try Inbox.rows(db, for: leases, sql: """
                SELECT j.id AS lease_id, j.kind, j.account, j.subject_id, j.attempts, a.media, json_extract(m.content, '$.kind') AS media_kind,
                    i.platform_user_id
                FROM jobs j
                LEFT JOIN attachments a ON j.kind = 'media' AND a.id = j.subject_id
                LEFT JOIN messages m ON m.id = a.message_id
                LEFT JOIN identities i ON j.kind = 'profile' AND i.id = j.subject_id
                WHERE j.id IN ({ids})
                """
            ).compactMap { lease, row in
                try FollowUpJob(
                    lease: lease, kind: row["kind"], account: row["account"], subjectId: row["subject_id"], attempts: row["attempts"],
                    mediaJSON: row["media"], mediaKind: row["media_kind"], platformUserId: row["platform_user_id"])
            }
        }
    }

    public func attachmentStored(_ job: FollowUpJob, path: String, mimeType: String?, size: Int, at now: Date) async throws {
        try await database.pool.write { db in
            try db.execute(sql: """
                UPDATE attachments SET status = 'stored', path = ?, mime_type = coalesce(?, mime_type), size = ?, updated_at = ? WHERE id = ?
                """, arguments: [path, mimeType, size, now.ms, job.subjectId])
            try LeaseQueue.jobs.complete(db, job.lease)
        }
    }

    public func profileFetched(_ job: FollowUpJob, displayName: String?, at now: Date) async throws {
        try await database.pool.write { db in
            if let displayName {
                try db.execute(sql: "UPDATE identities SET display_name = ? WHERE id = ?", arguments: [displayName, job.subjectId])
                try db.execute(sql: """
                    UPDATE contacts SET display_name = coalesce(display_name, ?), updated_at = ?
                    WHERE id = (SELECT contact_id FROM identities WHERE id = ?)
                    """, arguments: [displayName, now.ms, job.subjectId])
            }
            try LeaseQueue.jobs.complete(db, job.lease)
        }
    }

    public func failed(_ job: FollowUpJob, reason: String, at now: Date) async throws {
        try await database.pool.write { db in
            if job.kind == .media {
                try db.execute(
                    sql: "UPDATE attachments SET status = 'failed', failure_reason = ?, updated_at = ? WHERE id = ?",
                    arguments: [reason, now.ms, job.subjectId])
            }
            try LeaseQueue.jobs.complete(db, job.lease)
        }
    }

    public func reschedule(_ job: FollowUpJob, at next: Date, error: String) async throws {
        try await database.pool.write { db in
            try LeaseQueue.jobs.reschedule(db, job.lease, at: next.ms, error: error)
        }
    }
}

extension FollowUpJob {
    /// A claimed job from its row's columns, read the same way on both databases; nil for a kind
    /// this version does not know.
    package init?(
        lease: Lease, kind: String, account: String, subjectId: Int64, attempts: Int, mediaJSON: String?, mediaKind: String?, platformUserId: String?
    ) throws {
        guard let kind = FollowUpKind(rawValue: kind) else { return nil }
        self.init(
            lease: lease, kind: kind, account: account, subjectId: subjectId, attempts: attempts,
            media: try mediaJSON.map { try ContentCoding.decode(MediaReference.self, $0) },
            mediaKind: mediaKind.flatMap(MessageContent.Kind.init(rawValue:)), platformUserId: platformUserId)
    }
}
