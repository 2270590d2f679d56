import Foundation
import Metrics

/// The job metrics, through swift-metrics: whatever backend the process bootstraps exports them (the
/// `docsend-sync` executable bootstraps Prometheus; none bootstrapped, they cost nothing). docs/operations.md lists
/// every metric of the fleet.
///
/// - `docsend_sync_messages_total{role, event, outcome, reason}` counts every settled job. `event` is the job's
///   name (an event type or an internal message type; `unknown` for any other `type` property, which may be
///   anything a producer sent). `outcome` is a ``Outcome``; `reason` the not-synced reason or failure code.
/// - `docsend_sync_message_duration_seconds{role, event}`: from delivery to settlement.
/// - `docsend_sync_messages_in_work{role}`: jobs in a handler right now.
/// - `docsend_sync_resync_lag_seconds`: how late a visit re-sync tick runs against its schedule.
/// - `docsend_sync_messages_overflowed_total{role}`: jobs moved to their role's overflow queue because their team
///   had its share of the places in work (``TeamShares``).
///
/// Labels stay bounded: roles, job names and outcomes are fixed, reasons and failure codes are the fleet's own
/// vocabulary; never an email, a team or an id.
public enum JobMetrics {
    public static let messagesLabel = "docsend_sync_messages_total"
    public static let durationLabel = "docsend_sync_message_duration_seconds"
    public static let inWorkLabel = "docsend_sync_messages_in_work"
    public static let resyncLagLabel = "docsend_sync_resync_lag_seconds"
    public static let overflowedLabel = "docsend_sync_messages_overflowed_total"

    /// What became of a job.
    public enum Outcome: String, Sendable, CaseIterable {
        /// A Salesforce record was created for it (a Task, a Lead).
        case synced
        /// An existing Task was brought up to date (a re-sync, a visitor refresh).
        case updated
        /// Handled without writing to Salesforce: state recorded, a follow-up scheduled, a tick that was not due.
        case recorded
        /// Completed without syncing, on purpose: `reason` says why (the sync is off, no email, no match …).
        case skipped
        /// Failed and sent to a retry tier.
        case retried
        /// Sent to wait in a retry tier without counting an attempt: its team's org is paused.
        case deferred
        /// Failed for good and parked.
        case parked
        /// Failed while its team waits for a new login that already keeps as many parked as it may.
        case dropped
    }

    /// The `event` label of a job called `name` (its AMQP `type`): one of the fleet's names, else `unknown`.
    public static func eventLabel(_ name: String?) -> String {
        guard let name, JobName.allNames.contains(name) else { return "unknown" }
        return name
    }

    static func count(role: WorkerRole, event: String, outcome: Outcome, reason: String = "") {
        Counter(
            label: messagesLabel,
            dimensions: [("role", role.rawValue), ("event", event), ("outcome", outcome.rawValue), ("reason", reason)]
        ).increment()
    }

    static func recordDuration(role: WorkerRole, event: String, since start: ContinuousClock.Instant) {
        Timer(label: durationLabel, dimensions: [("role", role.rawValue), ("event", event)])
            .record(duration: ContinuousClock.now - start)
    }

    static func inWork(role: WorkerRole) -> Meter {
        Meter(label: inWorkLabel, dimensions: [("role", role.rawValue)])
    }

    static func countOverflowed(role: WorkerRole) {
        Counter(label: overflowedLabel, dimensions: [("role", role.rawValue)]).increment()
    }

    /// Makes every role's in-work gauge and overflow counter exist from the start, at zero.
    public static func prepare(roles: [WorkerRole]) {
        for role in roles {
            inWork(role: role).set(0)
            Counter(label: overflowedLabel, dimensions: [("role", role.rawValue)]).increment(by: 0)
        }
    }

    static func recordResyncLag(due: Date, now: Date = Date()) {
        Timer(label: resyncLagLabel).recordSeconds(max(0, now.timeIntervalSince(due)))
    }
}
