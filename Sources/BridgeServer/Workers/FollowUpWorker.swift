import ChannelKit
import Foundation
import Logging
import ServiceLifecycle
import UniversalInbox
import WebchatChannel

/// Does the work ingest queued for after the commit: downloads media into the attachment store
/// (within the size limit) and fetches display names from profile APIs.
struct FollowUpWorker: Service {
    let inbox: Inbox
    let registry: ChannelRegistry
    let transport: any HTTPTransport
    let attachments: AttachmentStore
    let maxMediaBytes: Int
    let retry: RetryPolicy
    let logger: Logger
    /// Where the website widget keeps a visitor's image until it is copied (`WebchatImage`).
    var staged: UploadStore? = nil
    let signal = WakeSignal()

    func run() async throws {
        let wakeups = signal.follow(inbox.bus) { if case .followUpQueued = $0 { true } else { false } }
        defer { wakeups.cancel() }
        await WorkLoop<FollowUpJob>(
            name: "follow-ups", maxInFlight: 8, pollInterval: .seconds(1), signal: signal, logger: logger,
            claim: { limit in try await inbox.claimFollowUps(limit: limit, lease: 300) },
            perform: { job in await handle(job) }
        ).run()
    }

    func handle(_ job: FollowUpJob) async {
        var log = logger
        log[metadataKey: "job.kind"] = "\(job.kind.rawValue)"
        log[metadataKey: "job.subject"] = "\(job.subjectId)"
        do {
            guard let adapter = registry.adapter(for: job.account) else {
                throw SendError.permanent("unknown_account", "channel account \(job.account) is no longer configured")
            }
            switch job.kind {
            case .media:
                guard let media = job.media else { throw SendError.permanent("no_media", "attachment has no media reference") }
                if adapter is WebchatAdapter {
                    // A visitor's image, checked and kept by the widget's API: copied, then let go.
                    guard let id = media.platformId, let file = staged?.stored(id: id) else {
                        throw SendError.permanent("no_media", "the visitor's image is no longer kept")
                    }
                    guard file.data.count <= maxMediaBytes else {
                        staged?.remove(id: id)
                        throw SendError.permanent("too_large", "the image is larger than \(maxMediaBytes) bytes")
                    }
                    let path = try attachments.write(file.data, attachmentId: job.subjectId)
                    try await inbox.attachmentStored(job: job, path: path, mimeType: file.type.rawValue, size: file.data.count)
                    staged?.remove(id: id)
                    return
                }
                let file = try await adapter.downloadMedia(media, kind: job.mediaKind ?? .file, maxBytes: maxMediaBytes, transport: transport)
                let path = try attachments.write(file.data, attachmentId: job.subjectId)
                try await inbox.attachmentStored(job: job, path: path, mimeType: file.mimeType, size: file.data.count)
            case .profile:
                guard let userId = job.platformUserId else { throw SendError.permanent("no_user", "identity is gone") }
                let profile = try await adapter.fetchProfile(userId: userId, transport: transport)
                try await inbox.profileFetched(job: job, displayName: profile?.displayName)
            }
        } catch {
            let failure = SendError.classify(error)
            let attempt = job.attempts + 1
            do {
                switch retry.decide(after: failure, attempt: attempt) {
                case .retry(let delay):
                    try await inbox.retryFollowUp(job: job, at: Date().addingTimeInterval(delay.timeInterval), error: shown(failure, job))
                    log.warning("follow-up failed, will retry", metadata: ["error.code": "\(failure.code)", "error.reason": "\(failure.reason)", "attempt": "\(attempt)"])
                case .giveUp(let final):
                    try await inbox.followUpFailed(job: job, reason: shown(final, job))
                    log.warning("follow-up failed", metadata: ["error.code": "\(final.code)", "error.reason": "\(final.reason)"])
                }
            } catch {
                log.error("could not record follow-up outcome", metadata: ["error": "\(error)"])
            }
        }
    }

    /// What agents see of a failed download: the bridge's own reasons as they are, anything the
    /// remote said (status, body) or the network did (refused, unreachable, timed out) only as
    /// "could not fetch the image"; the detail is in the log. A media URL can come from a
    /// customer, and the answer must not tell them which internal addresses and ports exist.
    func shown(_ failure: SendError, _ job: FollowUpJob) -> String {
        guard job.kind == .media else { return failure.description }
        if Self.ownReasons.contains(failure.code) { return failure.reason }
        let noun = switch job.mediaKind {
        case .image?, .sticker?: "image"
        case .video?: "video"
        case .audio?: "audio"
        default: "file"
        }
        return "could not fetch the \(noun)"
    }

    /// Failure codes whose reasons the bridge wrote itself and that say nothing about the remote.
    static let ownReasons: Set<String> = ["too_large", "preparing", "transcoding_failed", "no_media", "no_media_id", "unknown_account"]
}
