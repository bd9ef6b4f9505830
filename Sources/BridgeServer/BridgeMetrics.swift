import Prometheus
import Synchronization

/// The bridge's Prometheus metrics, served at `/metrics`.
struct BridgeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let outboxDepth: Gauge
    private let counters = Counters()

    init() {
        outboxDepth = registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "bridge", metricName: "outbox_depth", unitName: "", helpText: "Outbound messages waiting to be sent"))
    }

    /// Webhooks by channel and outcome (`accepted`, `unauthorized`, `malformed`, `too_large`, `unknown_account`, `error`).
    func webhook(channel: String, outcome: String, count: Int64 = 1) {
        counter("webhooks", help: "Webhook calls by channel and outcome", [("channel", channel), ("outcome", outcome)]).increment(by: count)
    }

    /// Inbound events by channel (`stored`, `duplicate`, `unreadable`: acknowledged and kept raw).
    func events(channel: String, outcome: String, count: Int) {
        guard count > 0 else { return }
        counter("inbound_events", help: "Webhook events by channel and outcome", [("channel", channel), ("outcome", outcome)]).increment(by: Int64(count))
    }

    /// Send attempts by channel and outcome (`sent`, `retry`, `failed`).
    func send(channel: String, outcome: String) {
        counter("sends", help: "Outbound send attempts by channel and outcome", [("channel", channel), ("outcome", outcome)]).increment()
    }

    /// Searches stopped before they finished (`too_costly`: past `search.timeout`; `client_left`).
    func searchStopped(reason: String) {
        counter("searches_stopped", help: "Ticket searches stopped by reason", [("reason", reason)]).increment()
    }

    /// Connections refused for being over `server.maxConnections`.
    func connectionRefused() {
        counter("connections_refused", help: "Connections refused over server.maxConnections", []).increment()
    }

    func render() -> String { registry.emitToString() }

    /// The counter `bridge_<name>_total` with `labels`, made once and then found in `counters`:
    /// the registry's own lookup builds the full name and checks each label name on every call,
    /// and every webhook counts twice. (A name always comes with the same label names, so the
    /// values are the key.)
    private func counter(_ name: String, help: String, _ labels: [(String, String)]) -> Counter {
        let key = Counters.Key(name: name, values: labels.map(\.1))
        if let counter = counters.made.withLock({ $0[key] }) { return counter }
        let counter = registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "bridge", metricName: name, unitName: "total", helpText: help), labels: labels)
        counters.made.withLock { $0[key] = counter }
        return counter
    }

    /// Counters made so far, by name and labels.
    private final class Counters: Sendable {
        struct Key: Hashable {
            var name: String
            var values: [String]
        }
        let made = Mutex<[Key: Counter]>([:])
    }
}
