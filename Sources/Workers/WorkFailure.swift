import AMQP
import Foundation
import Salesforce
import Store
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

    /// The code of a message whose team's Salesforce connection needs a new login.
    public static let reauthenticationCode = "salesforce_reauthentication_required"

    /// Creates a failure.
    public init(_ disposition: Disposition, code: String, _ message: String, teamID: String? = nil) {
        self.disposition = disposition
        self.code = code
        self.message = message
        self.teamID = teamID
    }

    /// `error` classified, naming `teamID` as the team it concerns.
    public static func classify(_ error: any Error, teamID: String) -> WorkFailure {
        var failure = classify(error)
        failure.teamID = failure.teamID ?? teamID
        return failure
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

    /// The team has no Salesforce connection: skipped (most teams on DocSend's bus never connect).
    static func teamNotConnected(_ teamID: String) -> WorkFailure {
        .skipped(
            code: "team_not_connected",
            "team \(teamID) has no Salesforce connection (connect it with `docsend-sync team connect`)", teamID: teamID)
    }

    /// The team's connection is flagged for a new login: parked, within the team's ``LoginHolds``, for a replay.
    static func needsLogin(_ teamID: String, reason: String?) -> WorkFailure {
        WorkFailure(
            .park, code: reauthenticationCode,
            "team \(teamID)'s Salesforce connection needs a new login: \(reason ?? "")", teamID: teamID)
    }

    /// A failure that may pass: retried.
    public static func retryable(code: String, _ message: String, teamID: String? = nil) -> WorkFailure {
        WorkFailure(.retry, code: code, message, teamID: teamID)
    }

    public var description: String { "\(code): \(message)" }

    /// Classifies any error a handler throws.
    ///
    /// - Salesforce errors follow their classification: retryable ones (timeouts, 5xx, `UNABLE_TO_LOCK_ROW`,
    ///   `REQUEST_LIMIT_EXCEEDED`) are retried; permanent ones (validation, a deleted mapped field) and a
    ///   connection that needs a new login are parked with Salesforce's error.
    /// - Store and broker errors are retried (a database or broker blip).
    /// - Contract violations and rendering errors are parked.
    public static func classify(_ error: any Error) -> WorkFailure {
        switch error {
        case let failure as WorkFailure:
            return failure
        case let error as SalesforceError:
            let code = "salesforce.\(error.code.rawValue)"
            switch error.classification {
            case .retryable: return .retryable(code: code, error.description)
            case .permanent: return .permanent(code: code, error.description)
            case .needsReauthentication:
                return .permanent(
                    code: reauthenticationCode,
                    "the team's Salesforce connection needs a new login: \(error.description)")
            }
        case let violation as ContractViolation:
            return .badMessage(code: "contract_violation.\(violation.kind)", violation.description)
        case let error as TaskRenderingError:
            return .permanent(code: "task_rendering", error.description)
        case let error as StoreError:
            let code = "store." + error.code.description.replacingOccurrences(of: " ", with: "_")
            switch error.code {
            case .decryptionFailed, .invalidData: return .permanent(code: code, error.description)
            default: return .retryable(code: code, error.description)
            }
        case let error as AMQPError:
            return .retryable(code: "broker", error.description)
        default:
            return .retryable(code: "unexpected", String(describing: error))
        }
    }
}
