import Fleet
import Metrics

/// The workers' counters, through swift-metrics: whatever metrics backend the process bootstraps exports them
/// (none bootstrapped: they cost nothing).
///
/// `docsend_sync_messages_total{role, outcome, code}` counts every settled message: `outcome` is `handled`,
/// `skipped` (acknowledged without syncing: the team never connected Salesforce), `retried`, `parked`, or
/// `dropped` (a team waiting for a new login already keeps ``LoginHolds/limit`` messages); `code` is the
/// failure code (empty for `handled`). Labels stay bounded: failure codes are a fixed vocabulary, never an
/// email or an id.
enum WorkMetrics {
    static let messagesLabel = "docsend_sync_messages_total"

    static func count(role: SyncTopology.Role, outcome: String, code: String = "") {
        Counter(label: messagesLabel, dimensions: [("role", role.rawValue), ("outcome", outcome), ("code", code)])
            .increment()
    }
}
