import Dispatch

/// A serial executor that runs its jobs on a dispatch queue of its own, for an actor that must not
/// wait behind the shared pool (`IngestQueue`).
///
/// Why: an actor on the default executor resumes on Swift's shared pool, first in first out behind
/// whatever else is queued there. Under load that is the HTTP work, so each hop of ingest's serial
/// stage (group taken, group filed, callers answered) waited behind the requests it was answering,
/// and the writer stood idle meanwhile. On a queue of its own the next group starts when the last
/// one ends.
final class SerialQueueExecutor: SerialExecutor {
    let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }
}
