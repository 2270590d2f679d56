import AMQP
import ArgumentParser
import Fleet
import Foundation
import Hummingbird
import Logging
import Store
import Synchronization
import Testing
import TestSupport

@testable import DocsendSyncCLI

/// `docsend-sync status` as a check, against the private broker of `scripts/test` (and its management API when
/// `DOCSEND_TEST_RABBITMQ_MANAGEMENT_URL` is set): the exit code and the `--json` report of each case that needs
/// attention, of the all-clear case, and of a check that cannot run in full. Each test has a topology of its own.
@Suite("docsend-sync status: the operator's check", .enabled(if: TestBroker.isAvailable), .timeLimit(.minutes(3)))
struct StatusCommandTests {
    let prefix = "status-\(UUID().uuidString.prefix(8).lowercased())"
    /// A directory of this test's own: `--data-dir` points there, so no store is found unless a test makes one.
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("status-tests-\(UUID().uuidString)")

    static let managementURL = ProcessInfo.processInfo.environment["DOCSEND_TEST_RABBITMQ_MANAGEMENT_URL"]
        .flatMap { $0.isEmpty ? nil : $0 }

    /// The broker and topology flags every broker command takes.
    var brokerFlags: [String] {
        [
            "--amqp-url", TestBroker.url ?? "amqp://guest:guest@127.0.0.1:5672/", "--topology-prefix", prefix,
            "--exchange", "\(prefix).activity", "--retry-intervals", "5s,1m", "--resync-interval", "10m",
        ]
    }

    /// `status` flags: the broker's, and a data directory of this test's own.
    var flags: [String] { brokerFlags + ["--data-dir", directory.path] }

    var topology: SyncTopology {
        SyncTopology(
            prefix: prefix, activityExchange: "\(prefix).activity", retryIntervals: [.seconds(5), .seconds(60)],
            resyncInterval: .seconds(600))
    }

    /// `status --json` with `extra` flags: the report and the exit code (0 when it returned).
    func status(_ extra: [String] = []) async throws -> (report: StatusJSON, raw: [String: Any], exitCode: Int32, output: String) {
        let result = try await runCapturingExit(["status", "--json"] + flags + extra)
        let data = Data(result.output.utf8)
        let report = try JSONDecoder().decode(StatusJSON.self, from: data)
        let raw = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let exitCode = result.exitCode?.rawValue ?? 0
        #expect(report.exitCode == exitCode, "the JSON says the exit code the command ends with")
        #expect(result.output.filter { $0 == "\n" }.count == 1, "one JSON object on one line")
        return (report, raw, exitCode, result.output)
    }

    /// Declares the topology, runs `body` with a connection, removes everything afterwards.
    func withTopology(_ body: (AMQPConnection) async throws -> Void) async throws {
        let connection = try await TestBroker.connect()
        try await connection.declare(topology.topology, redeclareOnReconnect: false)
        do {
            try await body(connection)
        } catch {
            await cleanUp(connection)
            throw error
        }
        await cleanUp(connection)
    }

    private func cleanUp(_ connection: AMQPConnection) async {
        for queue in topology.topology.queues { try? await connection.deleteQueue(queue.name) }
        for exchange in topology.topology.exchanges { try? await connection.deleteExchange(exchange.name) }
        await connection.close()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Consumers on the work queues of `roles` (on `connection`), which stay until the connection closes.
    func attachConsumers(_ connection: AMQPConnection, roles: [SyncTopology.Role] = SyncTopology.Role.allCases) async throws -> [AMQPConsumer] {
        var consumers: [AMQPConsumer] = []
        for role in roles { consumers.append(try await connection.consume(queue: topology.queue(role), prefetch: 1)) }
        return consumers
    }

    /// Parks a message straight in the parking queue with `headers`.
    func park(_ connection: AMQPConnection, _ headers: [String: AMQPValue], id: String = UUID().uuidString) async throws {
        try await connection.publish(
            AMQPMessage(
                exchange: topology.workExchange, routingKey: topology.parkingQueue, body: Data(#"{"id":"\#(id)"}"#.utf8),
                properties: AMQPProperties(contentType: "application/json", headers: headers, messageID: id)))
    }

    /// Waits (bounded) until `count` messages are ready in the parking queue: a peek requeues what it read
    /// asynchronously, so they are back a moment after the command returns.
    func waitUntilParked(_ connection: AMQPConnection, _ count: Int) async throws {
        try await eventually(timeout: .seconds(30), "\(count) messages ready in the parking queue") {
            try await connection.queueStatus(topology.parkingQueue).messages == count
        }
    }

    func parkedHeaders(code: String, failedAt: Date) -> [String: AMQPValue] {
        [
            "docsend-failure-code": .string(code), "docsend-failure-reason": "test",
            "docsend-failed-at": .string(failedAt.formatted(.iso8601)), "docsend-attempts": 3,
            "docsend-origin-queue": .string(topology.queue(.visits)),
        ]
    }

    // MARK: Needs attention

    @Test("missing queues: exit 1, queue_missing for each, in JSON and in text")
    func missingQueues() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let names = topology.topology.queues.map(\.name)
        let result = try await status()
        #expect(result.exitCode == 1)
        #expect(result.report.queues.map(\.name) == names)
        #expect(result.report.queues.allSatisfy { !$0.exists })
        #expect(result.report.attention.map(\.code) == Array(repeating: "queue_missing", count: names.count))
        #expect(result.report.errors.isEmpty, "\(result.report.errors)")
        #expect(result.report.parking == nil)

        let text = try await runCapturingExit(["status"] + flags)
        #expect(text.exitCode == ExitCode(1))
        for queue in names {
            let line = try #require(text.output.split(separator: "\n").first { $0.hasPrefix(queue + " ") }, "\(text.output)")
            #expect(line.hasSuffix(" missing (run `docsend-sync topology declare`)"), "\(line)")
        }
        #expect(text.output.contains("attention: queue_missing: "))
    }

    @Test("one queue missing among declared ones: queue_missing for it only, the others read as usual")
    func oneQueueMissing() async throws {
        try await withTopology { connection in
            try await connection.deleteQueue(topology.queue(.leads))
            _ = try await attachConsumers(connection, roles: [.visits, .links])
            let result = try await status()
            #expect(result.exitCode == 1)
            #expect(result.report.attention.map(\.code) == ["queue_missing"])
            #expect(result.report.attention.first?.message.hasPrefix(topology.queue(.leads) + " is missing") == true)
            #expect(result.report.errors.isEmpty, "\(result.report.errors)")
            #expect(result.report.queues.filter(\.exists).count == topology.topology.queues.count - 1)
            #expect(result.report.queues.first { $0.name == topology.queue(.links) }?.consumers == 1)
            #expect(result.report.parking?.total == 0)
        }
    }

    @Test("a work queue without consumers: exit 1, no_consumers for it only; without the management API, unacked and rates are null")
    func workQueueWithoutConsumers() async throws {
        try await withTopology { connection in
            _ = try await attachConsumers(connection, roles: [.visits, .links])
            let result = try await status()
            #expect(result.exitCode == 1)
            #expect(result.report.attention.map(\.code) == ["no_consumers"])
            #expect(result.report.attention.first?.message.contains(topology.queue(.leads)) == true)
            #expect(result.report.errors.isEmpty, "\(result.report.errors)")
            #expect(result.report.managementAPI == false)
            let leads = try #require(result.report.queues.first { $0.name == topology.queue(.leads) })
            #expect(leads.kind == "work" && leads.exists && leads.consumers == 0 && leads.ready == 0)
            #expect(result.report.queues.first { $0.name == topology.queue(.visits) }?.consumers == 1)
            // Unknown numbers are null, not left out.
            let queues = try #require(result.raw["queues"] as? [[String: Any]])
            for queue in queues {
                for key in ["unacknowledged", "publishRate", "deliverRate", "ackRate"] {
                    #expect(queue[key] is NSNull, "\(key) of \(queue["name"] ?? "?")")
                }
            }
            // The tiers, labelled; the store: not configured, said so.
            #expect(result.report.retryTiers.map(\.queue) == [
                "\(prefix).visits.retry.5s", "\(prefix).visits.retry.1m", "\(prefix).links.retry.5s",
                "\(prefix).links.retry.1m", "\(prefix).leads.retry.5s", "\(prefix).leads.retry.1m",
                "\(prefix).visits.resync.10m", "\(prefix).links.refresh.10s",
            ])
            #expect(result.report.retryTiers.map(\.kind).suffix(2) == ["resync", "refresh"])
            #expect(result.report.teamsNeedingLogin == nil)
            #expect(result.report.store.state == "not_configured")

            let text = try await runCapturingExit(["status"] + flags)
            #expect(text.exitCode == ExitCode(1))
            #expect(text.output.contains("unacked and rates unknown (-): give --management-url for them"), "\(text.output)")
            #expect(text.output.contains("teams needing a new Salesforce login: not checked (no store: "), "\(text.output)")
            #expect(text.output.contains("attention: no_consumers: \(topology.queue(.leads)) has no consumers"))
        }
    }

    @Test("a recently parked message: exit 1, parking_growing, counts by code; nothing is lost or taken")
    func parkingGrowing() async throws {
        try await withTopology { connection in
            _ = try await attachConsumers(connection)
            let now = Date()
            try await park(connection, parkedHeaders(code: "salesforce.INVALID_FIELD", failedAt: now))
            try await park(connection, parkedHeaders(code: "salesforce.INVALID_FIELD", failedAt: now.addingTimeInterval(-60)))
            try await park(connection, parkedHeaders(code: "contract_violation.missing_key", failedAt: now))
            try await park(connection, parkedHeaders(code: "team_not_connected", failedAt: now.addingTimeInterval(-7200)))
            try await park(connection, [:])  // no code, no time: as the broker parks (delivery limit)
            let listed = try await run(["parking", "list"] + brokerFlags)
            try await waitUntilParked(connection, 5)

            let result = try await status()
            #expect(result.exitCode == 1)
            #expect(result.report.attention.map(\.code) == ["parking_growing"])
            let parking = try #require(result.report.parking)
            #expect(parking.total == 5 && parking.read == 5 && parking.partial == false)
            #expect(parking.recent == 3)
            #expect(parking.window == "15m")
            #expect(parking.byCode == [
                "salesforce.INVALID_FIELD": 2, "contract_violation.missing_key": 1, "team_not_connected": 1, "(none)": 1,
            ])
            // Status only peeks: every message comes back, in the same order.
            try await waitUntilParked(connection, 5)
            #expect(try await run(["parking", "list"] + brokerFlags) == listed, "the same messages, in the same order")
            try await waitUntilParked(connection, 5)

            // A shorter window leaves the message of a minute ago out; a longer one takes in the old one too.
            #expect(try await status(["--parking-window", "30s"]).report.parking?.recent == 2)
            try await waitUntilParked(connection, 5)
            #expect(try await status(["--parking-window", "3h"]).report.parking?.recent == 4)
            try await waitUntilParked(connection, 5)

            let text = try await runCapturingExit(["status"] + flags)
            #expect(text.exitCode == ExitCode(1))
            #expect(text.output.contains("parking lot \(topology.parkingQueue): 5 message(s), 3 within the last 15m"))
            #expect(text.output.contains("      2  salesforce.INVALID_FIELD"), "\(text.output)")
            try await waitUntilParked(connection, 5)
        }
    }

    @Test("hostile failure codes: bounded and escaped in JSON, bounded and without control characters in text")
    func hostileFailureCodes() async throws {
        try await withTopology { connection in
            _ = try await attachConsumers(connection)
            let hostile = "\u{1B}[2J\u{1B}[31mred\nline\u{202E}\"quoted\"\\" + String(repeating: "x", count: 20_000)
            var headers = parkedHeaders(code: hostile, failedAt: Date())
            try await park(connection, headers)
            headers["docsend-failure-code"] = .bytes([0xFF, 0xFE, 0x00])
            try await park(connection, headers)
            headers["docsend-failure-code"] = .table(["nested": .array([.int(1)])])
            headers["docsend-failed-at"] = .string(String(repeating: "2", count: 5_000))
            try await park(connection, headers)

            let result = try await status()
            #expect(result.exitCode == 1)
            let parking = try #require(result.report.parking)
            #expect(parking.total == 3 && parking.recent == 2)
            try await waitUntilParked(connection, 3)
            let expectedKey = String(hostile.prefix(StatusReport.Parking.codeLimit)) + "…"
            #expect(parking.byCode == [expectedKey: 1, "(unreadable)": 2])

            let text = try await runCapturingExit(["status"] + flags)
            #expect(text.exitCode == ExitCode(1))
            #expect(!text.output.contains("\u{1B}"))
            #expect(!text.output.contains("\u{202E}"))
            for line in text.output.split(separator: "\n") { #expect(line.count < 400, "\(line.prefix(80))") }
            #expect(text.output.contains("?[2J?[31mred?line?\"quoted\"\\xxx"), "\(text.output.prefix(2000))")
        }
    }

    @Test("a team needing a login in the store: exit 1, team_needs_login with its reason")
    func teamNeedingLogin() async throws {
        try await withTopology { connection in
            _ = try await attachConsumers(connection)
            let path = directory.appendingPathComponent("sync.db").path
            let store = try await openStore(url: "sqlite://" + path, encryptionKey: .random(), logger: TestBroker.logger)
            for team in ["team_ok", "team_lapsed"] {
                try await store.saveConnection(
                    SalesforceConnection(
                        teamID: team, instanceURL: "https://acme.my.salesforce.com",
                        loginURL: "https://login.salesforce.com", clientID: "c", refreshToken: "r-\(team)"))
            }
            try await store.markNeedsReauthentication(teamID: "team_lapsed", reason: "invalid_grant: expired access/refresh token")
            try await store.close()

            // The SQLite store of --data-dir, found without --store-url (and without the encryption key).
            let result = try await status()
            #expect(result.exitCode == 1)
            #expect(result.report.attention.map(\.code) == ["team_needs_login"])
            #expect(result.report.attention.first?.message.contains("team_lapsed") == true)
            #expect(result.report.store.state == "checked")
            let teams = try #require(result.report.teamsNeedingLogin)
            #expect(teams.map(\.teamID) == ["team_lapsed"])
            #expect(teams.first?.reason == "invalid_grant: expired access/refresh token")
            let since = try #require(teams.first.flatMap { StatusCheck.parseRFC3339($0.since) })
            #expect(abs(since.timeIntervalSinceNow) < 600)

            let explicit = try await status(["--store-url", "sqlite://" + path])
            #expect(explicit.exitCode == 1)
            #expect(explicit.report.teamsNeedingLogin?.map(\.teamID) == ["team_lapsed"])

            let text = try await runCapturingExit(["status"] + flags)
            #expect(text.output.contains("teams needing a new Salesforce login: 1 (store: sqlite://\(path))"), "\(text.output)")
            #expect(text.output.contains("  team_lapsed  since "))
        }
    }

    @Test("orgs paused by worker processes: exit 1, one org_paused per team with its reasons, lapsed pauses not listed")
    func orgPaused() async throws {
        try await withTopology { connection in
            _ = try await attachConsumers(connection)
            let path = directory.appendingPathComponent("sync.db").path
            let store = try await openStore(url: "sqlite://" + path, encryptionKey: .random(), logger: TestBroker.logger)
            let later = Date().addingTimeInterval(300)
            try await store.saveOrgPause(OrgPause(teamID: "team_spent", process: "w-1:10", reason: "api_budget", until: later))
            try await store.saveOrgPause(OrgPause(teamID: "team_spent", process: "w-2:11", reason: "circuit_open", until: later))
            try await store.saveOrgPause(
                OrgPause(teamID: "team_over", process: "w-1:10", reason: "circuit_open", until: Date().addingTimeInterval(-5)))
            try await store.close()

            let result = try await status()
            #expect(result.exitCode == 1)
            #expect(result.report.attention.map(\.code) == ["org_paused"])
            let message = try #require(result.report.attention.first?.message)
            #expect(message.contains("team_spent") && message.contains("2 worker process(es)"), "\(message)")
            #expect(message.contains("(api_budget)") && message.contains("(circuit_open)"), "\(message)")
            let pauses = try #require(result.report.orgPauses)
            #expect(pauses.map(\.process) == ["w-1:10", "w-2:11"])
            #expect(pauses.allSatisfy { $0.teamID == "team_spent" })

            let text = try await runCapturingExit(["status"] + flags)
            #expect(text.output.contains("orgs paused by worker processes: 1"), "\(text.output)")
            #expect(text.output.contains("  team_spent  api_budget  until "))
        }
    }

    static let postgresURL = ProcessInfo.processInfo.environment["DOCSEND_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    @Test("a team needing a login in a PostgreSQL store: the same, and the store named without its password",
          .enabled(if: Self.postgresURL != nil))
    func teamNeedingLoginInPostgreSQL() async throws {
        let base = try #require(Self.postgresURL)
        // A schema of this test's own (created by the store), with a password the output must not show.
        var components = try #require(URLComponents(string: base))
        components.password = components.password ?? "unused-secret"
        components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "schema", value: "t_\(prefix.replacingOccurrences(of: "-", with: "_"))")]
        let url = try #require(components.string)
        try await withTopology { connection in
            _ = try await attachConsumers(connection)
            let store = try await openStore(url: url, encryptionKey: .random(), logger: TestBroker.logger)
            try await store.saveConnection(
                SalesforceConnection(
                    teamID: "team_pg", instanceURL: "https://acme.my.salesforce.com",
                    loginURL: "https://login.salesforce.com", clientID: "c", refreshToken: nil))
            try await store.markNeedsReauthentication(teamID: "team_pg", reason: "invalid_client", refreshToken: nil)
            try await store.close()

            let result = try await status(["--store-url", url])
            #expect(result.exitCode == 1)
            #expect(result.report.attention.map(\.code) == ["team_needs_login"])
            #expect(result.report.teamsNeedingLogin?.map(\.teamID) == ["team_pg"])
            #expect(result.report.store.state == "checked")
            #expect(!result.output.contains(try #require(components.password)), "\(result.report.store.detail)")
        }
    }

    // MARK: All clear

    @Test("all clear: consumers on every work queue, nothing parked recently, no team needing a login: exit 0")
    func allClear() async throws {
        try await withTopology { connection in
            _ = try await attachConsumers(connection)
            try await park(connection, parkedHeaders(code: "team_not_connected", failedAt: Date().addingTimeInterval(-7200)))
            let path = directory.appendingPathComponent("sync.db").path
            let store = try await openStore(url: "sqlite://" + path, encryptionKey: .random(), logger: TestBroker.logger)
            try await store.saveConnection(
                SalesforceConnection(
                    teamID: "team_ok", instanceURL: "https://acme.my.salesforce.com",
                    loginURL: "https://login.salesforce.com", clientID: "c", refreshToken: "r"))
            try await store.close()

            let result = try await status()
            #expect(result.exitCode == 0)
            #expect(result.report.attention.isEmpty, "\(result.report.attention)")
            #expect(result.report.errors.isEmpty, "\(result.report.errors)")
            #expect(result.report.parking?.total == 1 && result.report.parking?.recent == 0)
            #expect(result.report.teamsNeedingLogin == [])
            #expect(result.report.queues.filter { $0.kind == "work" }.allSatisfy { $0.consumers == 1 })

            let text = try await runCapturingExit(["status"] + flags)
            #expect(text.exitCode == nil)
            #expect(text.output.hasSuffix("\nall clear\n"), "\(text.output)")
        }
    }

    @Test("with the management API: unacknowledged and rates per queue, all clear", .enabled(if: Self.managementURL != nil))
    func allClearWithManagementAPI() async throws {
        let managementURL = try #require(Self.managementURL)
        try await withTopology { connection in
            let consumers = try await attachConsumers(connection)
            // One visit held unacknowledged by its consumer.
            try await connection.publish(
                AMQPMessage(exchange: topology.workExchange, routingKey: topology.queue(.visits), body: Data("{}".utf8)))
            var iterator = consumers[0].makeAsyncIterator()
            let held = try #require(try await iterator.next())

            // The API samples every few seconds: wait (bounded) until it has sampled the held message.
            var last: StatusJSON?
            try await eventually(timeout: .seconds(60), "the management API shows the held message") {
                let result = try await status(["--management-url", managementURL])
                #expect(result.exitCode == 0, "\(result.report.attention) \(result.report.errors)")
                last = result.report
                return result.report.queues.first { $0.name == topology.queue(.visits) }?.unacknowledged == 1
            }
            let report = try #require(last)
            #expect(report.managementAPI)
            #expect(report.errors.isEmpty && report.attention.isEmpty)
            let visits = try #require(report.queues.first { $0.name == topology.queue(.visits) })
            #expect(visits.consumers == 1 && visits.ready == 0)
            #expect(visits.publishRate != nil && visits.deliverRate != nil && visits.ackRate != nil)

            // Credentials from the broker URL when the management URL has none; from its user info otherwise.
            let url = try #require(URLComponents(string: managementURL))
            #expect(url.user == nil)
            var wrong = url
            wrong.user = "nobody"
            wrong.password = "wrong"
            let refused = try await status(["--management-url", try #require(wrong.string)])
            #expect(refused.exitCode == 2)
            #expect(refused.report.errors.map(\.code) == ["management_api_failed"])
            #expect(refused.report.errors.first?.message.contains("refused the credentials") == true)
            #expect(refused.report.errors.first?.message.contains("wrong") == false, "no password in messages")
            #expect(refused.report.managementAPI == false)

            let text = try await runCapturingExit(["status", "--management-url", managementURL] + flags)
            #expect(text.exitCode == nil)
            #expect(text.output.contains("unacked and rates from the management API at \(managementURL)"), "\(text.output)")
            held.ack()
        }
    }

    // MARK: The check cannot run in full

    @Test("a management API answering garbage or refusing: exit 2, management_api_failed, AMQP numbers still there")
    func malformedManagementAPI() async throws {
        try await withTopology { connection in
            _ = try await attachConsumers(connection)
            try await withGarbageManagementAPI { base in
                for path in ["/garbage", "/array", "/refuse", "/server-error"] {
                    let result = try await status(["--management-url", base + path])
                    #expect(result.exitCode == 2, "\(path)")
                    #expect(result.report.errors.map(\.code) == ["management_api_failed"], "\(path)")
                    #expect(result.report.managementAPI == false)
                    #expect(result.report.attention.isEmpty)
                    let visits = try #require(result.report.queues.first { $0.name == topology.queue(.visits) })
                    #expect(visits.consumers == 1 && visits.unacknowledged == nil)
                }
                // Every field of the wrong type: unknown numbers, not a failure.
                let typed = try await status(["--management-url", base + "/wrong-types"])
                #expect(typed.exitCode == 0, "\(typed.report.errors)")
                #expect(typed.report.managementAPI)
                #expect(typed.report.queues.allSatisfy { $0.unacknowledged == nil && $0.publishRate == nil })

                let text = try await runCapturingExit(["status", "--management-url", base + "/garbage"] + flags)
                #expect(text.exitCode == ExitCode(2))
                #expect(text.output.contains("check failed: management_api_failed: "), "\(text.output)")
            }
            // Nothing listening.
            let closed = try await status(["--management-url", "http://127.0.0.1:1"])
            #expect(closed.exitCode == 2)
            #expect(closed.report.errors.first?.message.contains("could not be reached") == true)
        }
    }

    @Test("an unreachable broker or store: exit 2 with what failed")
    func unreachable() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try await runCapturingExit(["status", "--json"] + flags + ["--amqp-url", "amqp://guest:guest@127.0.0.1:1/"])
        #expect(result.exitCode == ExitCode(2))
        let report = try JSONDecoder().decode(StatusJSON.self, from: Data(result.output.utf8))
        #expect(report.errors.map(\.code) == ["broker_unreachable"])
        #expect(!result.output.contains("guest:guest"))

        let missingStore = try await status(["--store-url", "sqlite://" + directory.appendingPathComponent("none.db").path])
        #expect(missingStore.exitCode == 2)
        #expect(missingStore.report.errors.map(\.code) == ["store_unavailable"])
        #expect(missingStore.report.store.state == "unavailable")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("none.db").path), "status creates no store")
    }

    /// Runs `body` with the root of a local HTTP server that answers every management API path under a prefix
    /// badly: `/garbage` not JSON, `/array` a JSON array, `/refuse` 401, `/server-error` 500, `/wrong-types` an
    /// object whose every field has the wrong type.
    func withGarbageManagementAPI(_ body: (String) async throws -> Void) async throws {
        let router = Router()
        router.get("/garbage/api/queues/**") { _, _ in "<html>not json{{" }
        router.get("/array/api/queues/**") { _, _ in "[1, 2, 3]" }
        router.get("/refuse/api/queues/**") { _, _ in Response(status: .unauthorized) }
        router.get("/server-error/api/queues/**") { _, _ in Response(status: .internalServerError) }
        router.get("/wrong-types/api/queues/**") { _, _ in
            #"{"messages_ready": "x", "messages_unacknowledged": {"a": 1}, "consumers": null, "message_stats": {"publish_details": {"rate": "fast"}, "deliver_get_details": 3, "ack_details": {"rate": -1}}}"#
        }
        let port = Mutex<Int?>(nil)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } },
            logger: Logger(label: "garbage-management-api", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            let deadline = ContinuousClock.now + .seconds(20)
            while port.withLock({ $0 }) == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            let bound = try #require(port.withLock { $0 })
            do {
                try await body("http://127.0.0.1:\(bound)")
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }
}

/// The `--json` report as a script reads it (docs/operations.md, "Watching it").
struct StatusJSON: Decodable {
    struct Finding: Decodable, Equatable {
        var code: String
        var message: String
    }

    struct Queue: Decodable {
        var name: String
        var kind: String
        var exists: Bool
        var ready: Int?
        var unacknowledged: Int?
        var consumers: Int?
        var publishRate: Double?
        var deliverRate: Double?
        var ackRate: Double?
    }

    struct Tier: Decodable {
        var queue: String
        var kind: String
        var label: String
        var interval: String
        var target: String
        var ready: Int?
    }

    struct Parking: Decodable {
        var queue: String
        var total: Int?
        var read: Int
        var partial: Bool
        var byCode: [String: Int]
        var recent: Int
        var window: String
    }

    struct Team: Decodable, Equatable {
        var teamID: String
        var reason: String?
        var since: String
    }

    struct Store: Decodable {
        var state: String
        var detail: String
    }

    struct OrgPause: Decodable {
        var teamID: String
        var process: String
        var reason: String
        var until: String
    }

    var managementAPI: Bool
    var queues: [Queue]
    var retryTiers: [Tier]
    var parking: Parking?
    var teamsNeedingLogin: [Team]?
    var orgPauses: [OrgPause]?
    var store: Store
    var attention: [Finding]
    var errors: [Finding]
    var exitCode: Int32
}
