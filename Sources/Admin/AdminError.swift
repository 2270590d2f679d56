import Foundation

/// The one error of the admin service: a stable code for programs, a message for people, the HTTP status the API
/// answers with, and, for a refused settings change, the problems per field.
public struct AdminError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable snake_case code (an extensible set).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// No credential, or one that does not check out (401).
        public static let unauthenticated = Code(rawValue: "unauthenticated")
        /// A valid credential of another team (403).
        public static let forbidden = Code(rawValue: "forbidden")
        /// A browser POST without the session's CSRF token (403).
        public static let csrfFailed = Code(rawValue: "csrf_failed")
        /// Malformed input: bad JSON, a bad parameter, a body too large (400, 413).
        public static let invalidRequest = Code(rawValue: "invalid_request")
        /// A settings change refused, with the problems per field (422).
        public static let validationFailed = Code(rawValue: "validation_failed")
        /// The team has no Salesforce connection (409).
        public static let notConnected = Code(rawValue: "not_connected")
        /// The team's connection needs a new login (409).
        public static let needsLogin = Code(rawValue: "needs_login")
        /// Nothing there (404).
        public static let notFound = Code(rawValue: "not_found")
        /// Salesforce failed or refused (502).
        public static let salesforceFailed = Code(rawValue: "salesforce_error")
        /// The parking lot is not reachable from this process (503).
        public static let parkingUnavailable = Code(rawValue: "parking_unavailable")

        // The connect flow's outcomes (400 unless said otherwise).
        /// The admin clicked Deny at Salesforce (`error=access_denied`).
        public static let accessDenied = Code(rawValue: "access_denied")
        /// Salesforce redirected back with another OAuth error.
        public static let authorizationFailed = Code(rawValue: "authorization_failed")
        /// The `state` is unknown or was already used (a replay, a forgery).
        public static let stateUnknown = Code(rawValue: "state_unknown")
        /// The `state` belongs to another browser session or team.
        public static let stateMismatch = Code(rawValue: "state_mismatch")
        /// The login took longer than the state lives (10 minutes).
        public static let stateExpired = Code(rawValue: "state_expired")
        /// Salesforce refused the code: expired, already used, or not for this flow (`invalid_grant`).
        public static let codeRejected = Code(rawValue: "code_rejected")
        /// The org is a sandbox when production was asked for, or the reverse.
        public static let wrongOrgType = Code(rawValue: "wrong_org_type")
        /// The confirmation of an org change is unknown, used, expired or not this session's.
        public static let confirmationUnknown = Code(rawValue: "confirmation_unknown")
    }

    /// One field's problem in a refused change.
    public struct FieldProblem: Sendable, Hashable, Codable {
        /// The setting, as a path into the settings document: `field_mapping.visit_duration`, `sync_visits`.
        public var field: String
        /// What is wrong, for people.
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var code: Code
    /// What happened, for people (never a secret).
    public var message: String
    /// The HTTP status the API answers with.
    public var status: Int
    /// Per-field problems (``Code/validationFailed``).
    public var fields: [FieldProblem]

    /// Creates an error.
    public init(_ code: Code, _ message: String, status: Int, fields: [FieldProblem] = []) {
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields
    }

    public var description: String { "\(code): \(message)" }

    static func unauthenticated(_ message: String = "a credential is required") -> AdminError {
        AdminError(.unauthenticated, message, status: 401)
    }

    static func forbidden() -> AdminError {
        AdminError(.forbidden, "the credential is for another team", status: 403)
    }

    static func invalid(_ message: String) -> AdminError {
        AdminError(.invalidRequest, message, status: 400)
    }

    static func connect(_ code: Code, _ message: String) -> AdminError {
        AdminError(code, message, status: 400)
    }
}
