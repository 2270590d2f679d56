import Metrics
import Prometheus

/// The metrics backend the executable bootstraps: Prometheus, into one registry that the worker processes serve
/// at `/metrics` (``Workers/MonitoringServer``). Library code only uses swift-metrics; tests never bootstrap it.
public enum CommandMetrics {
    /// The process's registry.
    static let registry = PrometheusCollectorRegistry()

    /// Bootstraps swift-metrics with Prometheus, with buckets that fit each duration the fleet measures.
    public static func bootstrap() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = milliseconds([5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000])
        factory.durationHistogramBuckets = [
            "docsend_sync_resync_lag_seconds": [1, 5, 15, 30, 60, 120, 300, 600, 1800].map { .seconds($0) },
            "docsend_sync_amqp_publish_confirm_seconds": milliseconds([1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000]),
            "docsend_sync_store_call_duration_seconds": milliseconds([1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000]),
        ]
        MetricsSystem.bootstrap(factory)
    }

    /// Everything the registry holds, in Prometheus' text format.
    public static func render() -> [UInt8] { registry.emitToBuffer() }

    private static func milliseconds(_ values: [Int64]) -> [Duration] { values.map { .milliseconds($0) } }
}
