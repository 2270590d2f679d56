import Foundation
import Metrics

/// The Salesforce client's metrics, through swift-metrics (docs/operations.md lists every metric of the fleet):
///
/// - `docsend_sync_salesforce_requests_total{operation, status}`: every HTTP exchange, retries included; `operation`
///   is the client's own name for the call (`query`, `composite`, `upsertCollection`, `token` …), `status` the HTTP
///   status, or `timeout` / `error` when no response came.
/// - `docsend_sync_salesforce_request_duration_seconds{operation}`: the exchange's time.
/// - `docsend_sync_salesforce_api_used{org}` and `docsend_sync_salesforce_api_limit{org}`: the org's daily API
///   usage and allocation, from the last `Sforce-Limit-Info` header; `org` is the org's instance host (one per
///   org, whatever number of teams share it).
/// - `docsend_sync_salesforce_token_refreshes_total{outcome}`: token requests: `ok`, `refused` (the connection
///   needs a new login), `error` (anything else: a timeout, a 5xx).
public enum SalesforceMetrics {
    static let requestsLabel = "docsend_sync_salesforce_requests_total"
    static let durationLabel = "docsend_sync_salesforce_request_duration_seconds"
    static let apiUsedLabel = "docsend_sync_salesforce_api_used"
    static let apiLimitLabel = "docsend_sync_salesforce_api_limit"
    static let refreshesLabel = "docsend_sync_salesforce_token_refreshes_total"

    /// Counts one exchange that got `status` (an HTTP status) or failed with `error`, after `started`.
    static func exchange(
        operation: String, status: Int?, error: SalesforceError? = nil, since started: ContinuousClock.Instant
    ) {
        let statusLabel: String =
            if let status { String(status) } else if error?.code == .timeout { "timeout" } else { "error" }
        Counter(label: requestsLabel, dimensions: [("operation", operation), ("status", statusLabel)]).increment()
        Timer(label: durationLabel, dimensions: [("operation", operation)]).record(duration: ContinuousClock.now - started)
    }

    /// Records the org's API usage reported by a response from `instanceURL`.
    static func apiUsage(_ usage: APIUsage, instanceURL: String) {
        let org = URL(string: instanceURL)?.host ?? "unknown"
        Gauge(label: apiUsedLabel, dimensions: [("org", org)]).record(usage.used)
        Gauge(label: apiLimitLabel, dimensions: [("org", org)]).record(usage.max)
    }

    /// The outcome of a token request.
    enum RefreshOutcome: String, CaseIterable {
        case ok, refused, error
    }

    static func refresh(_ outcome: RefreshOutcome) {
        Counter(label: refreshesLabel, dimensions: [("outcome", outcome.rawValue)]).increment()
    }

    /// Makes the series that only faults would make exist from the start at zero, so that rates and alerts see
    /// them: every token refresh outcome.
    public static func prepare() {
        for outcome in RefreshOutcome.allCases {
            Counter(label: refreshesLabel, dimensions: [("outcome", outcome.rawValue)]).increment(by: 0)
        }
    }
}
