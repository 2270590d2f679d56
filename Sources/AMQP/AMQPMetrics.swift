import Metrics

/// The broker connections' metrics, through swift-metrics (docs/operations.md lists every metric of the fleet):
///
/// - `docsend_sync_amqp_reconnects_total`: every attempt to connect again after a connection was lost (a broker
///   restart, a network cut); a steady rise is a reconnect loop.
/// - `docsend_sync_amqp_publish_confirm_seconds`: from a publish to the broker's confirm (the message is the
///   broker's then), reconnections included.
public enum AMQPMetrics {
    static let reconnectsLabel = "docsend_sync_amqp_reconnects_total"
    static let publishConfirmLabel = "docsend_sync_amqp_publish_confirm_seconds"

    static func reconnecting() { Counter(label: reconnectsLabel).increment() }

    static func confirmed(since started: ContinuousClock.Instant) {
        Timer(label: publishConfirmLabel).record(duration: ContinuousClock.now - started)
    }

    /// Makes the reconnection counter exist at zero from the start, so that rates and alerts see it.
    public static func prepare() { Counter(label: reconnectsLabel).increment(by: 0) }
}
