import Foundation

/// What a verified webhook holds: the events the bridge can read, and the ones it cannot.
///
/// A platform retries a whole delivery it sees refused, and in the end disables the webhook, so a
/// delivery is refused only when its envelope cannot be read. An event inside it that the bridge
/// cannot read (a new type, an implausible timestamp, a missing field) is acknowledged with the
/// rest and kept raw with the reason, for an admin to look at; it never blocks the others.
public struct ParsedWebhook: Sendable, Equatable {
    public var events: [InboundEvent]
    public var unreadable: [UnreadableEvent]
    /// The JSON body read whole, once, for the text of the events kept unreadable (`EachEvent`):
    /// read again for each of them, a body of many failing events cost its size times their number.
    var body: JSONValue??

    public init(events: [InboundEvent] = [], unreadable: [UnreadableEvent] = []) {
        self.events = events
        self.unreadable = unreadable
    }

    /// Adds what one platform event gave: its normalised events, or (when `read` throws) the event
    /// itself as unreadable with the reason.
    public mutating func add(raw: @autoclosure () -> String, _ read: () throws(WebhookError) -> [InboundEvent]) {
        add(read) { _ in raw() }
    }

    /// As `add(raw:_:)`, the raw text being the element at `path` of the JSON `body`.
    mutating func add(elementAt path: [JSONPath], of body: Data, _ read: () throws(WebhookError) -> [InboundEvent]) {
        add(read) { parsed in JSONValue.element(at: path, in: body, read: &parsed.body) }
    }

    private mutating func add(_ read: () throws(WebhookError) -> [InboundEvent], raw: (inout ParsedWebhook) -> String) {
        do {
            events += try read()
        } catch {
            let text = raw(&self)
            unreadable.append(UnreadableEvent(reason: error.message, raw: text))
        }
    }

    /// What was read: the events and the unreadable ones (not how).
    public static func == (a: ParsedWebhook, b: ParsedWebhook) -> Bool {
        a.events == b.events && a.unreadable == b.unreadable
    }
}

/// One platform event the bridge could not read, kept as received.
public struct UnreadableEvent: Sendable, Equatable, Codable {
    /// Why it could not be read, e.g. "timestamp 9223372036854775807 is not a plausible time".
    public var reason: String
    /// The event's own text (JSON or XML) as the platform sent it.
    public var raw: String

    public init(reason: String, raw: String) {
        self.reason = reason
        self.raw = raw
    }
}
