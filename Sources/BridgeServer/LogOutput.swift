import Logging

/// swift-log's `StreamLogHandler` (one line per message on stderr), with the logger's own metadata
/// kept aside until a message is written. `StreamLogHandler` formats all of it again on every
/// change, and Hummingbird sets a request id on each request's logger: under load that was 1.4% of
/// the bridge's CPU per webhook, for lines mostly never written. A line reads as before: the
/// logger's metadata, then the provider's, then the message's, each winning over the one before.
struct LogOutput: LogHandler {
    private var stream: StreamLogHandler
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(_ stream: StreamLogHandler) {
        self.stream = stream
        metadataProvider = stream.metadataProvider
        self.stream.metadataProvider = nil
    }

    var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { merged.merge(provided) { _, provided in provided } }
        if !merged.isEmpty { event.metadata = merged.merging(event.metadata ?? [:]) { _, message in message } }
        stream.log(event: event)
    }
}
