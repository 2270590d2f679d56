import Foundation

/// A kind of injected failure.
public struct FaultKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The kind as written in JSON (`server_error` …).
    public var rawValue: String
    /// Creates a value.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// 500 `UNKNOWN_EXCEPTION`.
    public static let serverError = FaultKind(rawValue: "server_error")
    /// 503 `SERVER_UNAVAILABLE`.
    public static let serviceUnavailable = FaultKind(rawValue: "service_unavailable")
    /// 400 `UNABLE_TO_LOCK_ROW`.
    public static let unableToLockRow = FaultKind(rawValue: "unable_to_lock_row")
    /// 401 `INVALID_SESSION_ID` although the token is valid.
    public static let invalidSession = FaultKind(rawValue: "invalid_session")
    /// 403 `REQUEST_LIMIT_EXCEEDED` although the allocation is not spent.
    public static let requestLimitExceeded = FaultKind(rawValue: "request_limit_exceeded")
    /// No response for ``FaultSettings/hangSeconds`` (past any sane client timeout), then the socket closes.
    public static let hang = FaultKind(rawValue: "hang")
    /// The TCP connection is closed without any response.
    public static let dropConnection = FaultKind(rawValue: "drop_connection")
    /// 503 with an HTML maintenance page (what Salesforce's edge answers during maintenance), not JSON.
    public static let maintenancePage = FaultKind(rawValue: "maintenance_page")
    /// The request is carried out, then answered 400 `DUPLICATE_VALUE`: what the loser of two concurrent upserts
    /// on one external id gets (the record exists now, inserted by the other).
    public static let duplicateValue = FaultKind(rawValue: "duplicate_value")

    /// Every kind the sandbox knows.
    public static let all: [FaultKind] = [
        .serverError, .serviceUnavailable, .unableToLockRow, .invalidSession, .requestLimitExceeded, .hang, .dropConnection,
        .maintenancePage, .duplicateValue,
    ]
    /// The raw value.
    public var description: String { rawValue }
}

/// One fault rule: which requests it hits and how often.
public struct FaultRule: Sendable, Codable, Equatable {
    /// What to inject.
    public var kind: FaultKind
    /// Chance of firing on a matching request, 0...1 (default 1).
    public var probability: Double?
    /// Fire on the next `count` matching requests only (nil: no limit). Decremented as it fires.
    public var count: Int?
    /// Glob on the request path (`*` matches any run of characters), e.g. `/services/data/*/query*`.
    public var path: String?
    /// HTTP method to match (nil: any).
    public var method: String?

    /// Creates a value.
    public init(kind: FaultKind, probability: Double? = nil, count: Int? = nil, path: String? = nil, method: String? = nil) {
        self.kind = kind
        self.probability = probability
        self.count = count
        self.path = path
        self.method = method
    }

    /// "The next `count` requests (matching `path`/`method`) fail with `kind`."
    public static func next(_ count: Int, _ kind: FaultKind, path: String? = nil, method: String? = nil) -> FaultRule {
        FaultRule(kind: kind, count: count, path: path, method: method)
    }

    func matches(method: String, path: String) -> Bool {
        if let m = self.method, m.caseInsensitiveCompare(method) != .orderedSame { return false }
        if let p = self.path, !Glob.matches(pattern: p, path) { return false }
        return true
    }
}

/// Added latency: fixed, or uniform between `minMs` and `maxMs`.
public struct LatencySpec: Sendable, Codable, Equatable {
    /// Fixed delay in milliseconds.
    public var fixedMs: Int?
    /// Lower bound of a uniform delay.
    public var minMs: Int?
    /// Upper bound of a uniform delay.
    public var maxMs: Int?
    /// Glob on the path the latency applies to (nil: every Salesforce route).
    public var path: String?

    /// Creates a value.
    public init(fixedMs: Int? = nil, minMs: Int? = nil, maxMs: Int? = nil, path: String? = nil) {
        self.fixedMs = fixedMs
        self.minMs = minMs
        self.maxMs = maxMs
        self.path = path
    }

    /// A fixed delay.
    public static func fixed(milliseconds: Int) -> LatencySpec { LatencySpec(fixedMs: milliseconds) }
    /// A delay drawn uniformly from `min...max` milliseconds.
    public static func uniform(min: Int, max: Int) -> LatencySpec { LatencySpec(minMs: min, maxMs: max) }
}

/// Fault injection settings. Faults apply to Salesforce routes (REST and OAuth), never to `/_sandbox`.
public struct FaultSettings: Sendable, Codable, Equatable {
    /// Delay added before answering (or failing).
    public var latency: LatencySpec?
    /// Rules tried in order; the first that fires wins.
    public var rules: [FaultRule]
    /// Seed of the random source for probabilities and latency (same seed, same sequence).
    public var randomSeed: UInt64?
    /// How long a `hang` lasts before the socket is closed (default 30 s).
    public var hangSeconds: Double?

    /// Creates a value.
    public init(latency: LatencySpec? = nil, rules: [FaultRule] = [], randomSeed: UInt64? = nil, hangSeconds: Double? = nil) {
        self.latency = latency
        self.rules = rules
        self.randomSeed = randomSeed
        self.hangSeconds = hangSeconds
    }
}

/// What the server does with one request before (or instead of) answering it.
public struct FaultDecision: Sendable, Equatable {
    /// Delay before acting.
    public var latency: Duration
    /// The fault to inject, if any.
    public var fault: FaultKind?
    /// For `hang`: how long.
    public var hang: Duration
}

/// Deterministic random source (SplitMix64).
struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The fault engine: pure state, no I/O.
struct FaultEngine: Sendable {
    private(set) var settings: FaultSettings
    private var random: SeededRandom

    init(_ settings: FaultSettings = FaultSettings()) {
        self.settings = settings
        self.random = SeededRandom(seed: settings.randomSeed ?? 0x5EED)
    }

    mutating func replace(_ settings: FaultSettings) { self = FaultEngine(settings) }

    mutating func add(_ rule: FaultRule) { settings.rules.append(rule) }

    mutating func decide(method: String, path: String) -> FaultDecision {
        var latencyMs = 0
        if let l = settings.latency, l.path.map({ Glob.matches(pattern: $0, path) }) ?? true {
            if let f = l.fixedMs {
                latencyMs = max(0, f)
            } else if let lo = l.minMs, let hi = l.maxMs, hi >= lo {
                latencyMs = Int.random(in: lo...hi, using: &random)
            }
        }
        var fired: FaultKind?
        for i in settings.rules.indices where settings.rules[i].matches(method: method, path: path) {
            if let c = settings.rules[i].count, c <= 0 { continue }
            let p = settings.rules[i].probability ?? 1
            if p < 1, Double.random(in: 0..<1, using: &random) >= p { continue }
            if let c = settings.rules[i].count { settings.rules[i].count = c - 1 }
            fired = settings.rules[i].kind
            break
        }
        settings.rules.removeAll { $0.count == 0 }
        return FaultDecision(
            latency: .milliseconds(latencyMs), fault: fired, hang: .milliseconds(Int(min(max(settings.hangSeconds ?? 30, 0), 86_400) * 1000)))
    }
}

enum Glob {
    /// Anchored glob match where `*` matches any run of characters.
    static func matches(pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), s = Array(text)
        var si = 0, pi = 0, star = -1, mark = 0
        while si < s.count {
            if pi < p.count, p[pi] == s[si], p[pi] != "*" {
                si += 1; pi += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi; mark = si; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; si = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
