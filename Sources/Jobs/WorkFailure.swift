import SyncCore

/// Why a message could not be handled, and what becomes of it: another attempt later (through the retry
/// tiers) or the parking queue at once.
public struct WorkFailure: Error, Sendable, CustomStringConvertible {
    /// What to do with the message.
    public enum Disposition: String, Sendable {
        /// Try again after the next retry tier's delay; parked once the tiers are used up.
        case retry
        /// Park now: another attempt cannot succeed until someone changes something.
        case park
        /// Acknowledge and count, without parking: there is nothing anyone could act on (the team never
        /// connected Salesforce). Parking these would flood the parking lot with messages nobody replays.
        case skip
        /// Wait, then try again, without counting an attempt: the message did nothing wrong, its team's org is
        /// paused (its API budget is spent, or its Salesforce keeps failing). It goes through the longest retry
        /// tier no longer than ``WorkFailure/retryAfter`` as often as it takes and is never parked for it.
        case wait
    }

    /// Retry or park.
    public var disposition: Disposition
    /// A stable snake_case code, e.g. `contract_violation`, `salesforce.INVALID_FIELD`; the
    /// `docsend-failure-code` header of a parked message.
    public var code: String
    /// What went wrong, for operators (never holds a token or secret).
    public var message: String
    /// The team whose message failed, when the failure is about the team's org (``LoginHolds`` counts by it).
    public var teamID: String?
    /// For ``Disposition/wait``: how long, at least, before the next attempt is worth it.
    public var retryAfter: Duration?

    /// The code of a message whose team's Salesforce connection needs a new login.
    public static let reauthenticationCode = "salesforce_reauthentication_required"

    /// Creates a failure.
    public init(_ disposition: Disposition, code: String, _ message: String, teamID: String? = nil) {
        self.disposition = disposition
        self.code = code
        self.message = message
        self.teamID = teamID
    }

    /// A message that can never be handled (bad JSON, a contract violation, an unknown type): parked.
    public static func badMessage(code: String, _ message: String) -> WorkFailure {
        WorkFailure(.park, code: code, message)
    }

    /// A failure that another attempt cannot fix: parked.
    public static func permanent(code: String, _ message: String) -> WorkFailure {
        WorkFailure(.park, code: code, message)
    }

    /// A message there is nothing to do with (the team has no Salesforce connection): acknowledged and counted.
    public static func skipped(code: String, _ message: String, teamID: String? = nil) -> WorkFailure {
        WorkFailure(.skip, code: code, message, teamID: teamID)
    }

    /// The team's org is paused for `retryAfter` at least: the message waits without counting an attempt.
    public static func wait(code: String, _ message: String, retryAfter: Duration, teamID: String? = nil) -> WorkFailure {
        var failure = WorkFailure(.wait, code: code, message, teamID: teamID)
        failure.retryAfter = retryAfter
        return failure
    }

    /// A failure that may pass: retried.
    public static func retryable(code: String, _ message: String, teamID: String? = nil) -> WorkFailure {
        WorkFailure(.retry, code: code, message, teamID: teamID)
    }

    public var description: String { "\(code): \(message)" }

    /// An event that breaks the contract: parked with `contract_violation.<kind>`.
    public static func contractViolation(_ violation: ContractViolation) -> WorkFailure {
        .badMessage(code: "contract_violation.\(violation.kind)", violation.description)
    }
}
