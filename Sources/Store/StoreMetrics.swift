import Metrics

/// The store's metric, through swift-metrics (docs/operations.md lists every metric of the fleet):
/// `docsend_sync_store_call_duration_seconds{operation, outcome}`, every call of the store the workers use
/// (``TimeLimitedStore``): `operation` is the ``SyncStore`` method (`loadState`, `claim` …), `outcome` `ok`,
/// `error` or `timeout`.
enum StoreMetrics {
    static let callLabel = "docsend_sync_store_call_duration_seconds"

    enum Outcome: String {
        case ok, error, timeout
    }

    /// Records a call of the method whose `#function` is `function` (`loadState(teamID:kind:objectID:)`).
    static func call(_ function: String, outcome: Outcome, since started: ContinuousClock.Instant) {
        let operation = function.prefix { $0 != "(" }
        Timer(label: callLabel, dimensions: [("operation", String(operation)), ("outcome", outcome.rawValue)])
            .record(duration: ContinuousClock.now - started)
    }
}
