import AMQP
import Foundation
import HTTP
import Logging
import Synchronization
import SyncCore
import TestSupport
import Testing

@testable import Workers

/// A `docsend-sync worker all` process's `/metrics`, `/healthz` and `/readyz`, scraped over HTTP after a known stream.
@Suite(
    "Metrics and health of a worker process", .enabled(if: TestBroker.isAvailable),
    .enabled(if: FileManager.default.isExecutableFile(atPath: FleetHarness.binary)), .timeLimit(.minutes(10)))
struct MetricsTests {
    @Test("the counters scraped from /metrics after a known stream are what the stream implies")
    func countersMatchTheStream() async throws {
        // A long re-sync interval keeps every visit's next tick in its tier: only the stream's own messages run.
        try await FleetHarness.with(StoreBackend.available[0], resyncInterval: .seconds(120)) { harness in
            let worker = try harness.spawnWorker("all")
            let url = try await worker.monitoringURL()
            try await eventually("the worker ready") { try await Scrape.get(url + "/readyz").status == 200 }

            let visits = (0..<3).map { _ in Events.started(email: "alice@acme.example") }
            for visit in visits { try await harness.publish(visit) }
            try await harness.publish(Events.linkCreated(account: Events.acme))
            try await harness.publish(Events.started(email: "alice@acme.example", team: "team_never_connected"))
            try await harness.publishRaw(key: "visit.started", body: Data("{not json".utf8))
            // A hostile `type` property: counted as `unknown`, never as a label of its own.
            try await harness.broker.publish(
                AMQPMessage(
                    exchange: harness.topology.activityExchange, routingKey: "visit.started", body: Data("{}".utf8),
                    properties: AMQPProperties(type: "evil\n\"type\"=\"x\"")))

            // visit.started goes to the visits and the links queues: each counts once per role; a bad one is parked
            // by visits only (links counts its copy skipped, parked_by_visits).
            var expected: [Scrape.Series: Double] = [
                .messages("visits", "visit.started", "synced"): 3,
                .messages("links", "visit.started", "recorded"): 3,
                .messages("links", "link.created", "synced"): 1,
                .messages("visits", "visit.started", "skipped", "team_not_connected"): 1,
                .messages("links", "visit.started", "skipped", "team_not_connected"): 1,
                .messages("visits", "visit.started", "parked", "contract_violation.invalid_json"): 1,
                .messages("links", "visit.started", "skipped", "parked_by_visits"): 1,
                .messages("visits", "unknown", "parked", "contract_violation.missing_key"): 1,
                .messages("links", "unknown", "skipped", "parked_by_visits"): 1,
            ]
            let total = expected.values.reduce(0, +)
            let scrape = try await eventually(timeout: .seconds(60), "every message settled") {
                let scrape = try await Scrape.metrics(url)
                return scrape.sum("docsend_sync_messages_total") >= total ? scrape : nil
            }
            for (series, count) in expected {
                #expect(scrape.value(series) == count, "\(series): \(scrape.lines(series.name).joined(separator: "\n"))")
            }
            #expect(scrape.sum("docsend_sync_messages_total") == total, "no other outcome counted")
            expected.removeAll()

            // Every job's handling time, nothing in work once settled.
            #expect(scrape.sum("docsend_sync_message_duration_seconds_count") == total)
            #expect(scrape.sum("docsend_sync_messages_in_work") == 0)
            // The Salesforce calls the syncs made, all answered 200, and the org's API usage from their headers.
            #expect(scrape.sum("docsend_sync_salesforce_requests_total", ["status": "200"]) > 0)
            #expect(scrape.sum("docsend_sync_salesforce_requests_total") == scrape.sum(
                "docsend_sync_salesforce_requests_total", ["status": "200"]), "\(scrape.lines("docsend_sync_salesforce_requests_total"))")
            let sandboxUsage = await harness.sandbox.org.requests().count
            let used = scrape.sum("docsend_sync_salesforce_api_used")
            #expect(used > 0 && used <= Double(sandboxUsage))
            #expect(scrape.sum("docsend_sync_salesforce_api_limit") == 15_000)
            #expect(scrape.value(.init(name: "docsend_sync_salesforce_token_refreshes_total", labels: ["outcome": "ok"])) == 1)
            #expect(scrape.value(.init(name: "docsend_sync_amqp_reconnects_total", labels: [:])) == 0)
            #expect(scrape.sum("docsend_sync_amqp_publish_confirm_seconds_count") > 0, "parked copies and re-sync ticks")
            #expect(scrape.sum("docsend_sync_store_call_duration_seconds_count", ["outcome": "ok"]) > 0)
            #expect(scrape.value(.init(name: "docsend_sync_teams_needing_login", labels: [:])) == 0)
            // No label carries an email, a visit id or a team.
            let text = scrape.text
            #expect(!text.contains("alice@acme.example") && !text.contains(FleetHarness.teamID))
            #expect(!visits.contains { event in text.contains(event.id) })
            #expect(!text.contains("evil"), "a hostile type property is counted as `unknown`, never as a label")

            #expect(try await Scrape.get(url + "/healthz").status == 200)
            #expect(try await Scrape.get(url + "/nothing-here").status == 404)
            #expect(try await Scrape.get(url + "/metrics", method: .post).status == 405)
            #expect(await worker.terminate() == 0, "\(worker.output.suffix(2000))")
        }
    }
}

/// The monitoring server alone, in-process, with readiness and metrics of the test's choosing.
@Suite("Monitoring server")
struct MonitoringServerTests {
    @Test("each path, method and hostile request gets its answer; readiness says what fails")
    func paths() async throws {
        let failing = Mutex<[String]>(["the visits consumer is starting"])
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = MonitoringServer(
            configuration: .init(host: "127.0.0.1", port: 0), metrics: { Array("a_metric 1\n".utf8) },
            readiness: { failing.withLock { $0 } }, onListening: { continuation.yield($0) },
            logger: Logger(label: "monitoring"))
        let running = Task { try await server.run() }
        defer { running.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let url = "http://127.0.0.1:\(port)"

        let notReady = try await Scrape.get(url + "/readyz")
        #expect(notReady.status == 503)
        #expect(String(decoding: notReady.body, as: UTF8.self) == "the visits consumer is starting\n")
        failing.withLock { $0 = [] }
        #expect(try await Scrape.get(url + "/readyz").status == 200)
        let metrics = try await Scrape.get(url + "/metrics")
        #expect(metrics.status == 200 && String(decoding: metrics.body, as: UTF8.self) == "a_metric 1\n")
        #expect(metrics.headers["Content-Type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(try await Scrape.get(url + "/healthz").status == 200)
        #expect(try await Scrape.get(url + "/metrics?x=1").status == 200, "a query string is ignored")
        #expect(try await Scrape.get(url + "/healthz", method: .delete).status == 405)
        #expect(try await Scrape.get(url + "/" + String(repeating: "%00a", count: 2000)).status == 404)
        let withBody = try await withHTTPClient(logger: Logger(label: "scrape")) { http in
            try await http.execute(
                HTTPRequest(method: .post, url: url + "/readyz", body: Data(count: 1 << 20), timeout: .seconds(5)))
        }
        #expect(withBody.status == 405, "a body is never read")
    }
}

/// A scrape of a `/metrics` endpoint, parsed: `name{label="value",…} number` lines.
struct Scrape {
    struct Series: Hashable, CustomStringConvertible {
        var name: String
        var labels: [String: String]

        static func messages(_ role: String, _ event: String, _ outcome: String, _ reason: String = "") -> Series {
            Series(
                name: "docsend_sync_messages_total",
                labels: ["role": role, "event": event, "outcome": outcome, "reason": reason])
        }

        var description: String { "\(name)\(labels.sorted { $0.key < $1.key })" }
    }

    let text: String
    let values: [Series: Double]

    init(text: String) {
        self.text = text
        var values: [Series: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let key = line[..<space]
            guard let brace = key.firstIndex(of: "{") else {
                values[Series(name: String(key), labels: [:])] = value
                continue
            }
            var labels: [String: String] = [:]
            for pair in key[key.index(after: brace)..<key.index(before: key.endIndex)].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
            }
            values[Series(name: String(key[..<brace]), labels: labels)] = value
        }
        self.values = values
    }

    func value(_ series: Series) -> Double? { values[series] }

    /// The sum of every series of `name` whose labels include `matching`.
    func sum(_ name: String, _ matching: [String: String] = [:]) -> Double {
        values.filter { series, _ in
            series.name == name && matching.allSatisfy { series.labels[$0.key] == $0.value }
        }.map(\.value).reduce(0, +)
    }

    func lines(_ name: String) -> [String] { text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(name) } }

    static func metrics(_ url: String) async throws -> Scrape {
        let response = try await get(url + "/metrics")
        guard response.status == 200 else { throw TestFailure("/metrics answered \(response.status)") }
        return Scrape(text: String(decoding: response.body, as: UTF8.self))
    }

    static func get(_ url: String, method: HTTPMethod = .get) async throws -> HTTPResponse {
        try await withHTTPClient(logger: Logger(label: "scrape")) { http in
            try await http.execute(HTTPRequest(method: method, url: url, timeout: .seconds(5)))
        }
    }
}

extension WorkerProcessHandle {
    /// The `http://host:port` of the process's metrics and health checks, from its log.
    func monitoringURL(timeout: Duration = .seconds(30)) async throws -> String {
        try await eventually(timeout: timeout, "the worker serving metrics") {
            output.split(separator: "\n").lazy.compactMap { line -> String? in
                guard line.contains("serving metrics and health checks"),
                    let range = line.range(of: "docsend-url=")
                else { return nil }
                return String(line[range.upperBound...].prefix { !$0.isWhitespace })
            }.first
        }
    }
}
