import Salesforce

/// The connected app the fleet uses for every team's org (the per-team parts, instance and login URL and
/// refresh token, come from the store).
///
/// Not `SalesforceConfiguration`: that is one org's client, made from these and the team's stored connection;
/// these are the fleet-wide parts, with the client id optional because `team connect` may name it.
public struct SalesforceAppSettings: Sendable {
    /// The OAuth host `team connect` uses when none is given: `https://login.salesforce.com`, a My Domain URL,
    /// or the sandbox's base URL.
    public var loginURL: String
    /// The connected app's consumer key.
    public var clientID: String?
    /// The consumer secret.
    public var clientSecret: String?
    /// The pinned REST API version.
    public var apiVersion: String
    /// The limit for one HTTP exchange with Salesforce.
    public var requestTimeout: Duration
    /// Concurrent REST requests per org and process.
    public var maxRequestsInFlight: Int
    /// How long an org's lookups and Task writes gather after the last one joined before their call goes
    /// (``OrgBatches``, ``Gatherer``); zero sends each on its own.
    public var batchWindow: Duration
    /// The longest a lookup or Task write waits for others while they keep joining.
    public var batchMaxWait: Duration
    /// How long the people found for an email are kept (``OrgBatches``).
    public var lookupLifetime: Duration
    /// The share of each org's daily API allocation left to the customer's other integrations (``OrgGate``).
    public var apiReserve: Double
    /// Failures in a row (5xx, timeouts) that pause an org (``OrgGate``).
    public var breakerThreshold: Int
    /// How long a paused org waits before one job probes it (doubling while probes fail, up to ten times).
    public var pauseInterval: Duration

    /// Creates settings; the defaults are Salesforce's production login and the client's defaults.
    public init(
        loginURL: String = "https://login.salesforce.com", clientID: String? = nil, clientSecret: String? = nil,
        apiVersion: String = "v62.0", requestTimeout: Duration = .seconds(30), maxRequestsInFlight: Int = 10,
        batchWindow: Duration = .milliseconds(5), batchMaxWait: Duration = .milliseconds(50),
        lookupLifetime: Duration = .seconds(5), apiReserve: Double = 0.2, breakerThreshold: Int = 5,
        pauseInterval: Duration = .seconds(60)
    ) {
        self.loginURL = loginURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.apiVersion = apiVersion
        self.requestTimeout = requestTimeout
        self.maxRequestsInFlight = maxRequestsInFlight
        self.batchWindow = batchWindow
        self.batchMaxWait = batchMaxWait
        self.lookupLifetime = lookupLifetime
        self.apiReserve = apiReserve
        self.breakerThreshold = breakerThreshold
        self.pauseInterval = pauseInterval
    }

    /// The thresholds of every org's ``OrgGate``.
    var gatePolicy: OrgGate.Policy {
        OrgGate.Policy(reserve: apiReserve, breakerThreshold: breakerThreshold, pauseInterval: pauseInterval)
    }

    /// The client configuration of one org: these settings with the org's login host and connected app.
    public func clientConfiguration(loginURL: String, clientID: String) -> SalesforceConfiguration {
        SalesforceConfiguration(
            loginURL: loginURL, clientID: clientID, clientSecret: clientSecret, apiVersion: apiVersion,
            requestTimeout: requestTimeout, maxRequestsInFlight: maxRequestsInFlight)
    }
}
