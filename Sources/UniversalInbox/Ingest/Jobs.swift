import ChannelKit
import Foundation
import GRDB

/// Background work queued by ingest: downloading media and looking up profiles.
public enum FollowUpKind: String, Sendable {
    case media
    case profile
}

/// A leased follow-up job with what the worker needs to do it.
public struct FollowUpJob: Sendable, Equatable {
    /// The job row's lease; a report on the job presents it.
    public var lease: Lease
    public var id: Int64 { lease.id }
    public var kind: FollowUpKind
    public var account: String
    /// The attachment (media) or identity (profile) the job is about.
    public var subjectId: Int64
    public var attempts: Int
    /// For media jobs: what to fetch and what kind of message it belongs to.
    public var media: MediaReference?
    public var mediaKind: MessageContent.Kind?
    /// For profile jobs.
    public var platformUserId: String?
}

struct JobWriter {
    let db: Database
    let now: Int64

    func enqueue(_ kind: FollowUpKind, account: String, subjectId: Int64) throws {
        try db.cachedStatement(sql: "INSERT INTO jobs (kind, account, subject_id, next_attempt_at) VALUES (?, ?, ?, ?)")
            .execute(arguments: [kind.rawValue, account, subjectId, now])
    }
}

extension Inbox {
    /// Leases up to `limit` due follow-up jobs (`LeaseQueue.jobs`) for `lease`.
    public func claimFollowUps(limit: Int, lease: TimeInterval) async throws -> [FollowUpJob] {
        try await claim(.jobs, limit: limit, lease: lease) { db, leases, _ in
            try Self.rows(db, for: leases, sql: """
                SELECT j.id AS lease_id, j.kind, j.account, j.subject_id, j.attempts, a.media, json_extract(m.content, '$.kind') AS media_kind,
                    i.platform_user_id
                FROM jobs j
                LEFT JOIN attachments a ON j.kind = 'media' AND a.id = j.subject_id
                LEFT JOIN messages m ON m.id = a.message_id
                LEFT JOIN identities i ON j.kind = 'profile' AND i.id = j.subject_id
                WHERE j.id IN ({ids})
                """
            ).compactMap { lease, row in
                guard let kind = FollowUpKind(rawValue: row["kind"]) else { return nil }
                let mediaJSON: String? = row["media"]
                return FollowUpJob(
                    lease: lease, kind: kind, account: row["account"], subjectId: row["subject_id"], attempts: row["attempts"],
                    media: try mediaJSON.map { try ContentCoding.decode(MediaReference.self, $0) },
                    mediaKind: (row["media_kind"] as String?).flatMap(MessageContent.Kind.init(rawValue:)),
                    platformUserId: row["platform_user_id"])
            }
        }
    }

    /// Records a downloaded attachment and finishes its job.
    public func attachmentStored(job: FollowUpJob, path: String, mimeType: String?, size: Int) async throws {
        let now = clock().ms
        try await database.pool.write { db in
            try db.execute(sql: """
                UPDATE attachments SET status = 'stored', path = ?, mime_type = coalesce(?, mime_type), size = ?, updated_at = ? WHERE id = ?
                """, arguments: [path, mimeType, size, now, job.subjectId])
            try LeaseQueue.jobs.complete(db, job.lease)
        }
    }

    /// Records a contact's display name from the platform's profile and finishes the job.
    public func profileFetched(job: FollowUpJob, displayName: String?) async throws {
        let now = clock().ms
        try await database.pool.write { db in
            if let displayName {
                try db.execute(sql: "UPDATE identities SET display_name = ? WHERE id = ?", arguments: [displayName, job.subjectId])
                try db.execute(sql: """
                    UPDATE contacts SET display_name = coalesce(display_name, ?), updated_at = ?
                    WHERE id = (SELECT contact_id FROM identities WHERE id = ?)
                    """, arguments: [displayName, now, job.subjectId])
            }
            try LeaseQueue.jobs.complete(db, job.lease)
        }
    }

    /// Gives up on a job; a media job marks its attachment failed with the reason.
    public func followUpFailed(job: FollowUpJob, reason: String) async throws {
        let now = clock().ms
        try await database.pool.write { db in
            if job.kind == .media {
                try db.execute(
                    sql: "UPDATE attachments SET status = 'failed', failure_reason = ?, updated_at = ? WHERE id = ?",
                    arguments: [reason, now, job.subjectId])
            }
            try LeaseQueue.jobs.complete(db, job.lease)
        }
    }

    /// Schedules another attempt of a job.
    public func retryFollowUp(job: FollowUpJob, at next: Date, error: String) async throws {
        try await database.pool.write { db in
            try LeaseQueue.jobs.reschedule(db, job.lease, at: next.ms, error: error)
        }
    }
}
