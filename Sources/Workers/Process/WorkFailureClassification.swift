import AMQP
import Foundation
import Jobs
import Salesforce
import Store
import SyncCore

extension WorkFailure {
    /// `error` classified, naming `teamID` as the team it concerns.
    public static func classify(_ error: any Error, teamID: String) -> WorkFailure {
        var failure = classify(error)
        failure.teamID = failure.teamID ?? teamID
        return failure
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
            return .contractViolation(violation)
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
