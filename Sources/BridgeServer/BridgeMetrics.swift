import Prometheus

/// The bridge's Prometheus metrics, served at `/metrics`.
struct BridgeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let outboxDepth: Gauge

    init() {
        outboxDepth = registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "bridge", metricName: "outbox_depth", unitName: "", helpText: "Outbound messages waiting to be sent"))
    }

    /// Webhooks by channel and outcome (`accepted`, `unauthorized`, `malformed`, `too_large`, `unknown_account`, `error`).
    func webhook(channel: String, outcome: String, count: Int64 = 1) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "bridge", metricName: "webhooks", unitName: "total", helpText: "Webhook calls by channel and outcome"),
            labels: [("channel", channel), ("outcome", outcome)]
        ).increment(by: count)
    }

    /// Inbound events by channel (`stored`, `duplicate`, `unreadable`: acknowledged and kept raw).
    func events(channel: String, outcome: String, count: Int) {
        guard count > 0 else { return }
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "bridge", metricName: "inbound_events", unitName: "total", helpText: "Webhook events by channel and outcome"),
            labels: [("channel", channel), ("outcome", outcome)]
        ).increment(by: Int64(count))
    }

    /// Send attempts by channel and outcome (`sent`, `retry`, `failed`).
    func send(channel: String, outcome: String) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "bridge", metricName: "sends", unitName: "total", helpText: "Outbound send attempts by channel and outcome"),
            labels: [("channel", channel), ("outcome", outcome)]
        ).increment()
    }

    /// Searches stopped before they finished (`too_costly`: past `search.timeout`; `client_left`).
    func searchStopped(reason: String) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "bridge", metricName: "searches_stopped", unitName: "total", helpText: "Ticket searches stopped by reason"),
            labels: [("reason", reason)]
        ).increment()
    }

    /// Connections refused for being over `server.maxConnections`.
    func connectionRefused() {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "bridge", metricName: "connections_refused", unitName: "total", helpText: "Connections refused over server.maxConnections")
        ).increment()
    }

    func render() -> String { registry.emitToString() }
}
