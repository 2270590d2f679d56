import AMQP
import ArgumentParser
import Fleet
import Foundation
import Testing

@testable import DocsendSyncCLI

/// The rules of `docsend-sync status` without a broker: what needs attention, how the parking lot is counted, what
/// a management API answer yields, and how hostile strings are shown.
@Suite("docsend-sync status: rules")
struct StatusReportTests {
    typealias Queue = StatusReport.Queue

    @Test("each attention case has its code, in a stable order; the exit code follows errors, then attention")
    func attentionCodesAndExitCode() throws {
        let queues = [
            Queue(name: "p.visits", kind: .work, exists: true, ready: 0, consumers: 2),
            Queue(name: "p.links", kind: .work, exists: true, ready: 5, consumers: 0),
            Queue(name: "p.leads", kind: .work, exists: false),
            Queue(name: "p.visits.retry.5s", kind: .retry, exists: true, ready: 0, consumers: 0),
            Queue(name: "p.parking", kind: .parking, exists: true, ready: 3, consumers: 0),
        ]
        let parking = StatusReport.Parking(
            queue: "p.parking", total: 3, read: 3, partial: false, byCode: ["x": 3], recent: 2, window: "15m")
        let teams = [StatusReport.Team(teamID: "team_7", reason: "invalid_grant", since: "2026-11-30T10:00:00Z")]
        let findings = StatusReport.attention(queues: queues, parking: parking, teams: teams)
        #expect(findings.map(\.code) == ["queue_missing", "no_consumers", "parking_growing", "team_needs_login"])
        #expect(findings[0].message.contains("p.leads"))
        #expect(findings[1].message.contains("p.links"))
        #expect(findings[2].message.hasPrefix("2 message(s) parked within the last 15m"))
        #expect(findings[3].message.contains("team_7"))

        // Tiers and the parking lot never need consumers; nothing recent, no team: all clear.
        let quiet = StatusReport.attention(
            queues: [queues[0], queues[3], queues[4]], parking: .init(
                queue: "p.parking", total: 3, read: 3, partial: false, byCode: ["x": 3], recent: 0, window: "15m"),
            teams: [])
        #expect(quiet.isEmpty)

        var report = StatusReport()
        #expect(report.exitCode == 0)
        report.attention = findings
        #expect(report.exitCode == 1)
        report.errors = [.init(code: "management_api_failed", message: "refused")]
        #expect(report.exitCode == 2)
    }

    @Test("parking counts by code and within the window, and says when the read was partial")
    func parkingCounts() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let parking = StatusReport.Parking.counting(
            [
                ("salesforce.INVALID_FIELD", now.addingTimeInterval(-60)),
                ("salesforce.INVALID_FIELD", now.addingTimeInterval(-3600)),
                ("contract_violation.missing_key", now.addingTimeInterval(-899)),
                (StatusReport.Parking.noCode, nil),
                ("clock_skew", now.addingTimeInterval(120)),
            ], queue: "p.parking", total: 7, window: .seconds(900), now: now)
        #expect(parking.byCode == [
            "salesforce.INVALID_FIELD": 2, "contract_violation.missing_key": 1, StatusReport.Parking.noCode: 1,
            "clock_skew": 1,
        ])
        #expect(parking.recent == 3)
        #expect(parking.read == 5)
        #expect(parking.partial)
        #expect(parking.window == "15m")
    }

    @Test("a parked message's code and time come from its headers, whatever they hold")
    func parkedHeaders() {
        #expect(StatusCheck.failureCode([:]) == StatusReport.Parking.noCode)
        #expect(StatusCheck.failureCode(["docsend-failure-code": .int(7)]) == StatusReport.Parking.unreadableCode)
        #expect(StatusCheck.failureCode(["docsend-failure-code": .bytes([0xFF, 0xFE])]) == StatusReport.Parking.unreadableCode)
        let long = String(repeating: "x", count: 50_000)
        #expect(StatusCheck.failureCode(["docsend-failure-code": .string(long)]).count == StatusReport.Parking.codeLimit + 1)

        let at = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(StatusCheck.failedAt(["docsend-failed-at": .string(at.formatted(.iso8601))]) == at)
        #expect(StatusCheck.failedAt(["docsend-failed-at": "2027-01-15T08:00:00.250Z"]) == Date(timeIntervalSince1970: 1_800_000_000.25))
        #expect(StatusCheck.failedAt(["docsend-failed-at": "yesterday"]) == nil)
        #expect(StatusCheck.failedAt(["docsend-failed-at": .string(String(repeating: "9", count: 10_000))]) == nil)
        // Parked by the broker (delivery limit): the time of its first death.
        let death: [String: AMQPValue] = ["x-death": .array([.table(["queue": "p.visits", "time": .timestamp(at)])])]
        #expect(StatusCheck.failedAt(death) == at)
    }

    @Test("a management API answer: numbers when they are there, unknown when missing or of the wrong type, an error when not a JSON object")
    func managementAnswers() throws {
        func numbers(_ text: String) throws -> ManagementAPI.QueueNumbers {
            try ManagementAPI.numbers(from: Data(text.utf8), queue: "q", root: "http://x")
        }
        let full = try numbers(
            #"{"messages_ready":3,"messages_unacknowledged":2,"consumers":1,"message_stats":{"publish_details":{"rate":1.5},"deliver_get_details":{"rate":0.5},"ack_details":{"rate":0.25}}}"#)
        #expect(full == .init(unacknowledged: 2, publishRate: 1.5, deliverRate: 0.5, ackRate: 0.25))
        // Sampled, no traffic yet: the API leaves the counters out.
        #expect(try numbers(#"{"messages_ready":0,"messages_unacknowledged":0,"consumers":0}"#)
            == .init(unacknowledged: 0, publishRate: 0, deliverRate: 0, ackRate: 0))
        // Not sampled yet (a new queue): nothing known; RabbitMQ writes the empty answer as an empty array.
        #expect(try numbers(#"{"name":"q"}"#) == .init())
        #expect(try numbers("[]") == .init())
        #expect(try numbers(#"{"messages_unacknowledged":0,"message_stats":{"publish_details":{"rate":2.0}}}"#)
            == .init(unacknowledged: 0, publishRate: 2, deliverRate: 0, ackRate: 0))
        // Wrong types, negative or absurd values: unknown, never a crash.
        #expect(try numbers(
            #"{"messages_ready":"many","messages_unacknowledged":-4,"message_stats":{"publish_details":{"rate":"fast"},"deliver_get_details":[],"ack_details":{"rate":-1}}}"#)
            == .init())
        #expect(try numbers(#"{"messages_unacknowledged":1e30,"message_stats":7}"#) == .init())
        for garbage in ["", "not json", "[1,2]", "null", "\"text\"", "{\"messages_ready\":", String(repeating: "[", count: 100_000)] {
            #expect(throws: ManagementAPI.Failure.self, "\(garbage.prefix(20))") { try numbers(garbage) }
        }
    }

    @Test("the management URL: credentials from its user info, else the broker's; never in messages")
    func managementURL() throws {
        let withUser = try ManagementAPI.Endpoint(
            url: "https://ops:s%40cret@rabbit.example:15671/rabbitmq/", user: "guest", password: "guest")
        #expect(withUser.root == "https://rabbit.example:15671/rabbitmq")
        #expect(withUser.authorization == "Basic " + Data("ops:s@cret".utf8).base64EncodedString())
        let withoutUser = try ManagementAPI.Endpoint(url: "http://127.0.0.1:15672", user: "guest", password: "pw")
        #expect(withoutUser.root == "http://127.0.0.1:15672")
        #expect(withoutUser.authorization == "Basic " + Data("guest:pw".utf8).base64EncodedString())
        for bad in ["amqp://rabbit.example", "http://", "not a url", ""] {
            #expect(throws: ManagementAPI.Failure.self, "\(bad)") {
                try ManagementAPI.Endpoint(url: bad, user: "u", password: "p")
            }
        }
        #expect(ManagementAPI.pathSegment("/") == "%2F")
        #expect(ManagementAPI.pathSegment("docsend-sync.visits.retry.5s") == "docsend-sync.visits.retry.5s")
        #expect(ManagementAPI.pathSegment("a b/é?#") == "a%20b%2F%C3%A9%3F%23")
    }

    @Test("status flags: the management URL's key and variable, a parking window that must be an interval")
    func flags() throws {
        #expect(FleetConfiguration.environmentName("rabbitmq.managementURL") == "DOCSEND_SYNC_RABBITMQ_MANAGEMENT_URL")
        let parsed = try parse(
            ["status", "--management-url", "http://h:15672", "--parking-window", "1h", "--json", "--store-url", "sqlite:///x.db"],
            as: DocsendSync.Status.self)
        #expect(parsed.managementURL == "http://h:15672")
        #expect(parsed.parkingWindow == .seconds(3600))
        #expect(parsed.json)
        #expect(parsed.store.storeURL == "sqlite:///x.db")
        #expect(try parse(["status"], as: DocsendSync.Status.self).parkingWindow == .seconds(900))
        for bad in ["soon", "0s", "-5m"] {
            let failure = try #require(parseFailure(["status", "--parking-window", bad]))
            #expect(failure.message.contains("--parking-window"), "\(failure.message)")
        }
    }

    @Test("a configuration the check cannot use: exit 2 with a `configuration` error, not 1")
    func configurationProblem() async throws {
        let result = try await runCapturingExit(["status", "--json", "--retry-intervals", "5s,soon"])
        #expect(result.exitCode == ExitCode(2))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let errors = try #require(report["errors"] as? [[String: String]])
        #expect(errors.map { $0["code"] } == ["configuration"])
        #expect(errors.first?["message"]?.contains("topology.retryIntervals") == true)
        #expect(report["exitCode"] as? Int == 2)
    }

    @Test("hostile strings are bounded and stripped of control characters for the terminal")
    func printable() {
        #expect(StatusText.printable("salesforce.INVALID_FIELD", limit: 100) == "salesforce.INVALID_FIELD")
        #expect(StatusText.printable("\u{1B}[31mred\nnext\u{202E}", limit: 100) == "?[31mred?next?")
        #expect(StatusText.printable(String(repeating: "é", count: 500), limit: 10) == String(repeating: "é", count: 10) + "…")
    }
}
