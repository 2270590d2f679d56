import Fleet
import Foundation

/// What `docsend-sync status` found: the queues, the retry tiers, the parking lot, the teams needing a new login,
/// and what needs attention. Printed as text, or as one JSON object with `--json` (docs/operations.md, "Watching it",
/// documents the shape).
struct StatusReport: Encodable {
    /// A finding with a stable code, for scripts, and a message, for people.
    struct Finding: Encodable, Equatable {
        var code: String
        var message: String
    }

    /// One queue of the topology. `nil` numbers are unknown (`-` in text, `null` in JSON).
    struct Queue: Encodable, Equatable {
        enum Kind: String, Encodable {
            case work, overflow, retry, resync, refresh, parking
        }

        var name: String
        var kind: Kind
        var exists: Bool
        /// Ready messages and consumers (AMQP, live).
        var ready: Int?
        var consumers: Int?
        /// Delivered, not yet acknowledged (management API only).
        var unacknowledged: Int?
        /// Messages per second in (published) and out (delivered, acknowledged), management API only.
        var publishRate: Double?
        var deliverRate: Double?
        var ackRate: Double?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(kind, forKey: .kind)
            try container.encode(exists, forKey: .exists)
            // Unknown numbers are `null`, not left out: a script reads every key of every queue.
            try container.encode(ready, forKey: .ready)
            try container.encode(unacknowledged, forKey: .unacknowledged)
            try container.encode(consumers, forKey: .consumers)
            try container.encode(publishRate, forKey: .publishRate)
            try container.encode(deliverRate, forKey: .deliverRate)
            try container.encode(ackRate, forKey: .ackRate)
        }

        enum CodingKeys: String, CodingKey {
            case name, kind, exists, ready, unacknowledged, consumers, publishRate, deliverRate, ackRate
        }
    }

    /// A delay queue: a retry tier, the visit re-sync tier or the link visitor refresh tier.
    struct Tier: Encodable, Equatable {
        var queue: String
        var kind: Queue.Kind
        /// For people: "retry", "re-sync delay", "visitor refresh delay".
        var label: String
        var interval: String
        /// The work queue its messages go back to.
        var target: String
        var ready: Int?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(queue, forKey: .queue)
            try container.encode(kind, forKey: .kind)
            try container.encode(label, forKey: .label)
            try container.encode(interval, forKey: .interval)
            try container.encode(target, forKey: .target)
            try container.encode(ready, forKey: .ready)
        }

        enum CodingKeys: String, CodingKey { case queue, kind, label, interval, target, ready }
    }

    /// The parking lot, counted from a bounded read of its messages (they stay parked).
    struct Parking: Encodable, Equatable {
        var queue: String
        /// Parked messages (ready), `nil` when the queue is missing or could not be read.
        var total: Int?
        /// How many were read (at most ``StatusCheck/parkingReadLimit``).
        var read: Int
        /// Whether fewer were read than are parked: `byCode` and `recent` count the oldest `read` only.
        var partial: Bool
        /// Messages read per failure code (`docsend-failure-code`; ``noCode`` and ``unreadableCode`` otherwise).
        var byCode: [String: Int]
        /// Messages read that failed within the window.
        var recent: Int
        /// The window, e.g. `15m`.
        var window: String

        /// The key of messages without a failure code: the broker parked them (delivery limit).
        static let noCode = "(none)"
        /// The key of messages whose failure code is not a string.
        static let unreadableCode = "(unreadable)"
        /// Failure codes longer than this are cut (a producer can set any header value).
        static let codeLimit = 200

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(queue, forKey: .queue)
            try container.encode(total, forKey: .total)
            try container.encode(read, forKey: .read)
            try container.encode(partial, forKey: .partial)
            try container.encode(byCode, forKey: .byCode)
            try container.encode(recent, forKey: .recent)
            try container.encode(window, forKey: .window)
        }

        enum CodingKeys: String, CodingKey { case queue, total, read, partial, byCode, recent, window }
    }

    /// A team whose Salesforce connection needs a new login.
    struct Team: Encodable, Equatable {
        var teamID: String
        var reason: String?
        /// RFC 3339, UTC.
        var since: String

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(teamID, forKey: .teamID)
            try container.encode(reason, forKey: .reason)
            try container.encode(since, forKey: .since)
        }

        enum CodingKeys: String, CodingKey { case teamID, reason, since }
    }

    /// Whether the store was checked, and how it went.
    struct Store: Encodable, Equatable {
        /// `checked`, `not_configured` or `unreachable`.
        var state: String
        /// What was checked (the store URL without its password) or why not.
        var detail: String
    }

    /// Whether the management API gave the numbers AMQP cannot (unacknowledged, rates).
    var managementAPI = false
    var queues: [Queue] = []
    var retryTiers: [Tier] = []
    var parking: Parking?
    /// `nil` when no store was checked (see ``store``).
    var teamsNeedingLogin: [Team]?
    /// Orgs a worker process paused (API budget, circuit), one per team and process; `nil` when no store was checked.
    var orgPauses: [OrgPause]?
    var store = Store(state: "not_configured", detail: "")
    /// What needs an operator: exit 1.
    var attention: [Finding] = []
    /// What kept the check from running in full (broker, management API, store): exit 2.
    var errors: [Finding] = []

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(managementAPI, forKey: .managementAPI)
        try container.encode(queues, forKey: .queues)
        try container.encode(retryTiers, forKey: .retryTiers)
        try container.encode(parking, forKey: .parking)
        try container.encode(teamsNeedingLogin, forKey: .teamsNeedingLogin)
        try container.encode(orgPauses, forKey: .orgPauses)
        try container.encode(store, forKey: .store)
        try container.encode(attention, forKey: .attention)
        try container.encode(errors, forKey: .errors)
        try container.encode(exitCode, forKey: .exitCode)
    }

    enum CodingKeys: String, CodingKey {
        case managementAPI, queues, retryTiers, parking, teamsNeedingLogin, orgPauses, store, attention, errors, exitCode
    }

    /// 0: all clear; 1: something needs attention; 2: the check could not run in full (which hides what it missed).
    var exitCode: Int32 { !errors.isEmpty ? 2 : !attention.isEmpty ? 1 : 0 }

    /// The report as one line of JSON; every string (queue names, failure codes, reasons) is escaped by the encoder.
    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

// MARK: What needs attention

extension StatusReport {
    /// The findings for the queues, parking lot and teams this report holds, in a stable order: missing queues,
    /// work queues without consumers, recent parking, teams needing a login, paused orgs (one per team).
    static func attention(queues: [Queue], parking: Parking?, teams: [Team]?, pauses: [OrgPause]? = nil) -> [Finding] {
        var findings: [Finding] = []
        for queue in queues where !queue.exists {
            findings.append(
                Finding(code: "queue_missing", message: "\(queue.name) is missing (run `docsend-sync topology declare`)"))
        }
        for queue in queues where queue.kind == .work && queue.exists && queue.consumers == 0 {
            findings.append(
                Finding(code: "no_consumers", message: "\(queue.name) has no consumers: no worker takes its messages"))
        }
        if let parking, parking.recent > 0 {
            findings.append(
                Finding(
                    code: "parking_growing",
                    message: "\(parking.recent) message(s) parked within the last \(parking.window)"
                        + " (docsend-sync parking list)"))
        }
        for team in teams ?? [] {
            let id = StatusText.printable(team.teamID, limit: 100)
            findings.append(
                Finding(
                    code: "team_needs_login",
                    message: "team \(id) needs a new Salesforce login since \(team.since)"
                        + " (an admin logs in again: docsend-sync team connect --team \(id))"))
        }
        let byTeam = Dictionary(grouping: pauses ?? [], by: \.teamID)
        for teamID in byTeam.keys.sorted() {
            let team = byTeam[teamID] ?? []
            let reasons = Set(team.map(\.reason)).sorted().map { OrgPause.explanation($0) }.joined(separator: "; ")
            let until = team.map(\.until).max() ?? ""
            findings.append(
                Finding(
                    code: "org_paused",
                    message: "team \(StatusText.printable(teamID, limit: 100))'s org is paused in \(team.count) worker process(es) "
                        + "until \(until): \(reasons); its messages wait in the retry tiers, none is parked"))
        }
        return findings
    }
}

extension StatusReport.Parking {
    /// Counts `messages` (failure code, and when each failed) read from a parking lot of `total` messages: a
    /// message failed within `window` before `now` is recent (a time in the future counts too: it is not old).
    static func counting(
        _ messages: [(code: String, failedAt: Date?)], queue: String, total: Int, window: Duration, now: Date
    ) -> Self {
        let cutoff = now.addingTimeInterval(-Double(IntervalFormat.wholeMilliseconds(window)) / 1000)
        var byCode: [String: Int] = [:]
        var recent = 0
        for message in messages {
            byCode[message.code, default: 0] += 1
            if let failedAt = message.failedAt, failedAt >= cutoff { recent += 1 }
        }
        return Self(
            queue: queue, total: total, read: messages.count, partial: messages.count < total, byCode: byCode,
            recent: recent, window: IntervalFormat.format(window))
    }

    /// A failure code as the report keeps it: cut to ``codeLimit`` characters.
    static func boundedCode(_ code: String) -> String {
        code.count > codeLimit ? String(code.prefix(codeLimit)) + "…" : code
    }
}

extension StatusReport {
    /// An org paused by one worker process, as the store recorded it.
    struct OrgPause: Encodable, Equatable {
        var teamID: String
        var process: String
        /// `api_budget` or `circuit_open`.
        var reason: String
        /// ISO 8601.
        var until: String

        /// What `reason` means, for people.
        static func explanation(_ reason: String) -> String {
            switch reason {
            case "api_budget": "its daily API calls are spent down to the reserve kept for its other integrations (api_budget)"
            case "circuit_open": "its Salesforce keeps failing (circuit_open)"
            default: StatusText.printable(reason, limit: 100)
            }
        }
    }
}
