import Logging

/// swift-log's `StreamLogHandler` (one line per message on stderr), with the logger's own metadata
/// kept aside until a message is written. `StreamLogHandler` formats all of it again on every
/// change, and Hummingbird sets a request id on each request's logger: under load that was 1.4% of
/// the bridge's CPU per webhook, for lines mostly never written. A line reads as before.
struct LogOutput: LogHandler {
    private var stream: StreamLogHandler
    var metadata: Logger.Metadata = [:]

    init(_ stream: StreamLogHandler) {
        self.stream = stream
    }

    var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { stream.metadataProvider }
        set { stream.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The message's own metadata wins over the logger's, as in `StreamLogHandler`.
    func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty { event.metadata = metadata.merging(event.metadata ?? [:]) { _, message in message } }
        stream.log(event: event)
    }
}
