import Foundation
import SalesforceSandbox

@testable import Workers

/// The figures of a chaos run: what the stream implies against what landed in the sandbox, what was parked and
/// why, and what the run did. ``table()`` is what `scripts/chaos` prints; docs/reliability.md explains each figure.
struct ChaosReport {
    /// One kind of record: the ids (or Lead emails) the stream implies, and those found with how many records each.
    struct Row {
        var name: String
        var expected: Set<String>
        var found: [String: Int]

        var created: Int { found.keys.filter { expected.contains($0) }.count }
        /// Records beyond the first for one id.
        var duplicated: Int { found.values.reduce(0) { $0 + max($1 - 1, 0) } }
        var missing: Int { expected.subtracting(found.keys).count }
        /// Ids the stream does not imply (a rule applied wrongly, or a Task without its external id).
        var unexpected: Int { found.keys.filter { !expected.contains($0) }.count }
    }

    let parameters: ChaosParameters
    let expected: Expectation
    let rows: [Row]
    /// Parked messages by failure code (`docsend-failure-code`; `delivery_limit (broker)` for those the broker
    /// parked after too many unsettled deliveries), with one reason each.
    let parked: [(code: String, count: Int, reason: String)]
    let left: Int
    let kills: Int
    /// How long each broker restart took, from `stop_app` until the broker answered again.
    let restartTimes: [Duration]
    var brokerRestarts: Int { restartTimes.count }
    let published: Int
    let publishedIn: Duration?
    let drainedIn: Duration?
    /// When every implied Task and Lead was there (by count).
    let completeIn: Duration?
    let elapsed: Duration
    /// Workers that did not exit 0 on the final SIGTERM, with how they ended.
    let uncleanExits: [String]
    /// The sandbox's requests, tallied.
    let requests: RequestTally

    init(
        parameters: ChaosParameters, expected: Expectation, tasks: [SandboxRecord], leads: [SandboxRecord],
        parked: [ParkedMessage], left: Int, requests: RequestTally, kills: Int, brokerRestarts: [Duration],
        published: Int, publishedIn: Duration?, drainedIn: Duration?, completeIn: Duration?, elapsed: Duration,
        uncleanExits: [String]
    ) {
        func count(_ field: String) -> [String: Int] {
            tasks.compactMap { $0[field]?.stringValue }.reduce(into: [:]) { $0[$1, default: 0] += 1 }
        }
        rows = [
            Row(name: "visit Tasks", expected: expected.visitTasks, found: count("DocSend_Visit_Id__c")),
            Row(name: "link Tasks", expected: expected.linkTasks, found: count("DocSend_Link_Id__c")),
            Row(name: "space link Tasks", expected: expected.spaceLinkTasks, found: count("DocSend_Space_Link_Id__c")),
            Row(
                name: "Leads", expected: expected.leads,
                found: leads.compactMap { $0["Email"]?.stringValue?.lowercased() }.reduce(into: [:]) { $0[$1, default: 0] += 1 }),
        ]
        var byCode: [String: (count: Int, reason: String)] = [:]
        for message in parked {
            let code = message.failureCode ?? "delivery_limit (broker)"
            let reason = message.failureReason ?? "delivered \(message.properties.headers["x-delivery-count"]?.intValue ?? 0) times without a settlement"
            byCode[code, default: (0, reason)].count += 1
        }
        self.parked = byCode.map { (code: $0.key, count: $0.value.count, reason: $0.value.reason) }.sorted { ($1.count, $0.code) < ($0.count, $1.code) }
        self.parameters = parameters
        self.expected = expected
        self.left = left
        self.kills = kills
        self.restartTimes = brokerRestarts
        self.published = published
        self.publishedIn = publishedIn
        self.drainedIn = drainedIn
        self.completeIn = completeIn
        self.elapsed = elapsed
        self.uncleanExits = uncleanExits
        self.requests = requests
    }

    var missing: Int { rows.reduce(0) { $0 + $1.missing } }
    var duplicated: Int { rows.reduce(0) { $0 + $1.duplicated } }
    var unexpected: Int { rows.reduce(0) { $0 + $1.unexpected } }
    var parkedCount: Int { parked.reduce(0) { $0 + $1.count } }
    var drained: Bool { drainedIn != nil }
    var passed: Bool { drained && missing == 0 && duplicated == 0 && unexpected == 0 && parkedCount == 0 && uncleanExits.isEmpty }

    /// The report as printed: a few header lines, the table, parked messages by code, and the verdict.
    func table() -> String {
        var lines: [String] = []
        let p = parameters
        lines.append(
            "chaos run: \(p.events) events (seed \(p.seed), 2 teams), \(p.processesPerRole) worker processes per role, "
                + "store \(p.store.rawValue)")
        lines.append(
            p.faults
                ? "faults: 1% hung requests (\(Self.number(p.hangSeconds)) s, request timeout \(p.requestTimeout)), 5% 503, "
                    + "1% UNABLE_TO_LOCK_ROW on writes, access tokens expire after \(Self.number(p.tokenLifetime)) s, "
                    + (p.rotation ? "refresh tokens rotate" : "refresh tokens do not rotate")
                : "faults: none")
        lines.append(
            "chaos: \(kills) workers SIGKILLed (one every \(p.killEvery) s) and replaced, \(brokerRestarts) broker restarts "
                + "(back after \(restartTimes.map(Self.seconds).joined(separator: ", "))); "
                + "retry tiers \(p.retryIntervals.map { "\($0.components.seconds)s" }.joined(separator: ","))")
        lines.append("")
        let header = ["", "expected", "created", "duplicated", "missing", "unexpected"]
        var cells = rows.map { [$0.name, "\($0.expected.count)", "\($0.created)", "\($0.duplicated)", "\($0.missing)", "\($0.unexpected)"] }
        cells.append([
            "total", "\(rows.reduce(0) { $0 + $1.expected.count })", "\(rows.reduce(0) { $0 + $1.created })",
            "\(duplicated)", "\(missing)", "\(unexpected)",
        ])
        let widths = header.indices.map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        for row in [header] + cells {
            lines.append(
                row.enumerated().map { column, text in
                    column == 0
                        ? text.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                        : String(repeating: " ", count: widths[column] - text.count) + text
                }.joined(separator: "  "))
        }
        lines.append("")
        lines.append("parked: \(parkedCount)")
        for entry in parked {
            lines.append("  \(String(repeating: " ", count: max(0, 6 - "\(entry.count)".count)))\(entry.count)  \(entry.code)  e.g. \(entry.reason.prefix(160))")
        }
        lines.append("left in queues: \(left)")
        lines.append(
            "duration: \(Self.seconds(elapsed)) (published \(published) of \(p.events) in \(publishedIn.map(Self.seconds) ?? "-"), "
                + "every implied record there after \(completeIn.map(Self.seconds) ?? "-"), "
                + "queues drained after \(drainedIn.map(Self.seconds) ?? "- (deadline \(p.seconds) s reached)"))")
        let faultText = requests.faults.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let tokenText = requests.tokenAnswers.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key == 0 ? "no answer" : "\($0.key)")" }
            .joined(separator: ", ")
        lines.append("sandbox: \(requests.total) requests; faults injected: \(faultText.isEmpty ? "none" : faultText)")
        lines.append("token requests answered: \(tokenText.isEmpty ? "none" : tokenText)")
        lines.append("workers not exiting 0 on SIGTERM at the end: \(uncleanExits.count)")
        for line in uncleanExits { lines.append("  \(line)") }
        lines.append("result: \(passed ? "PASSED" : "FAILED")")
        return lines.joined(separator: "\n") + "\n"
    }

    static func seconds(_ duration: Duration) -> String { "\(duration.components.seconds) s" }
    static func number(_ value: Double) -> String { value == value.rounded() ? "\(Int(value))" : "\(value)" }
}

/// The sandbox's requests counted as they come: its request log keeps only the newest 10,000, so the run tallies
/// it every second, by sequence number.
struct RequestTally {
    private(set) var lastSequence = 0
    private(set) var total = 0
    /// Injected faults by kind.
    private(set) var faults: [String: Int] = [:]
    /// Answers of the OAuth token endpoint that were not injected faults, by status.
    private(set) var tokenAnswers: [Int: Int] = [:]

    mutating func add(_ requests: [RecordedRequest]) {
        for request in requests where request.sequence > lastSequence {
            lastSequence = request.sequence
            total += 1
            if let fault = request.fault {
                faults[fault, default: 0] += 1
            } else if request.path == "/services/oauth2/token" {
                tokenAnswers[request.status ?? 0, default: 0] += 1
            }
        }
    }
}
