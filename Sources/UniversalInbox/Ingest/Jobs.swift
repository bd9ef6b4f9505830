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
        try await stores.followUpJobStore.claim(limit: limit, lease: lease, now: clock())
    }

    /// Records a downloaded attachment and finishes its job.
    public func attachmentStored(job: FollowUpJob, path: String, mimeType: String?, size: Int) async throws {
        try await stores.followUpJobStore.attachmentStored(job, path: path, mimeType: mimeType, size: size, at: clock())
    }

    /// Records a contact's display name from the platform's profile and finishes the job.
    public func profileFetched(job: FollowUpJob, displayName: String?) async throws {
        try await stores.followUpJobStore.profileFetched(job, displayName: displayName, at: clock())
    }

    /// Gives up on a job; a media job marks its attachment failed with the reason.
    public func followUpFailed(job: FollowUpJob, reason: String) async throws {
        try await stores.followUpJobStore.failed(job, reason: reason, at: clock())
    }

    /// Schedules another attempt of a job.
    public func retryFollowUp(job: FollowUpJob, at next: Date, error: String) async throws {
        try await stores.followUpJobStore.reschedule(job, at: next, error: error)
    }
}
