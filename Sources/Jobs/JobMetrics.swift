import Metrics

/// The job counters, through swift-metrics: whatever metrics backend the process bootstraps exports them (none
/// bootstrapped: they cost nothing).
///
/// `docsend_sync_messages_total{role, outcome, code}` counts every settled job: `outcome` is `handled`,
/// `skipped` (completed without syncing: the team never connected Salesforce), `retried`, `parked`, or
/// `dropped` (a team waiting for a new login already keeps as many parked as it may); `code` is the failure code
/// (empty for `handled`). Labels stay bounded: failure codes are a fixed vocabulary, never an email or an id.
public enum JobMetrics {
    public static let messagesLabel = "docsend_sync_messages_total"

    /// What became of a job.
    public enum Outcome: String, Sendable {
        case handled, skipped, retried, parked, dropped
    }

    static func count(role: WorkerRole, outcome: Outcome, code: String = "") {
        Counter(label: messagesLabel, dimensions: [("role", role.rawValue), ("outcome", outcome.rawValue), ("code", code)])
            .increment()
    }
}
