import AMQP
import ArgumentParser
import Fleet
import Foundation
import SyncCore
import Testing
import TestSupport

@testable import DocsendSyncCLI

/// The broker commands run in-process against the private broker of `scripts/test`, on a topology of their
/// own: what an operator sees from `status`, `topology declare`, `publish` and `parking`.
@Suite("docsend-sync: broker commands in-process", .enabled(if: TestBroker.isAvailable), .timeLimit(.minutes(2)))
struct BrokerCommandTests {
    let prefix = "cli-\(UUID().uuidString.prefix(8).lowercased())"

    /// The flags naming the test broker and this test's topology.
    var flags: [String] {
        [
            "--amqp-url", TestBroker.url ?? "amqp://guest:guest@127.0.0.1:5672/", "--topology-prefix", prefix,
            "--exchange", "\(prefix).activity", "--retry-intervals", "5s,1m", "--resync-interval", "10m",
        ]
    }

    var topology: SyncTopology {
        SyncTopology(
            prefix: prefix, activityExchange: "\(prefix).activity", retryIntervals: [.seconds(5), .seconds(60)],
            resyncInterval: .seconds(600))
    }

    func removeTopology() async throws {
        let connection = try await TestBroker.connect()
        for queue in topology.topology.queues { try await connection.deleteQueue(queue.name) }
        for exchange in topology.topology.exchanges { try await connection.deleteExchange(exchange.name) }
        await connection.close()
    }

    @Test("status says what is missing and exits 1; declare makes it; status then lists every queue")
    func statusAndDeclare() async throws {
        let queues = topology.topology.queues.map(\.name)
        let before = try await runCapturingExit(["status"] + flags)
        #expect(before.exitCode == ExitCode(1))
        let beforeLines = before.output.split(separator: "\n").map(String.init)
        #expect(beforeLines.filter { $0.hasSuffix("  missing (run `docsend-sync topology declare`)") }.count == queues.count)
        for queue in queues {
            let line = try #require(beforeLines.first { $0.hasPrefix(queue + " ") }, "\(queue) in \(before.output)")
            #expect(line.hasSuffix("  missing (run `docsend-sync topology declare`)"), "\(line)")
        }

        let declared = try await run(["topology", "declare"] + flags)
        #expect(declared.hasPrefix(
            "declared \(topology.topology.exchanges.count) exchanges, \(queues.count) queues, "
                + "\(topology.topology.bindings.count) bindings on amqp"), "\(declared)")
        #expect(!declared.contains("guest:guest"), "the broker URL is printed without its password")

        // Declared, but no worker consumes the work queues yet: that needs attention too (StatusCommandTests).
        let after = try await runCapturingExit(["status"] + flags)
        #expect(after.exitCode == ExitCode(1))
        let lines = after.output.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("queue") == true)
        for queue in queues {
            let line = try #require(lines.first { $0.hasPrefix(queue + " ") }, "\(queue) in \(after.output)")
            // ready, unacked, consumers, in/s, deliver/s, ack/s: without the management API, unacked and rates are unknown.
            #expect(line.split(separator: " ").dropFirst() == ["0", "-", "0", "-", "-", "-"], "\(line)")
        }
        #expect(lines.filter { $0.hasPrefix("attention: no_consumers: ") }.count == 3, "\(after.output)")
        try await removeTopology()
    }

    @Test("publish confirms the good lines, reports the bad ones with their number and exits 1")
    func publish() async throws {
        _ = try await run(["topology", "declare"] + flags)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var simulator = ActivitySimulator(seed: 3)
        let events = simulator.events(count: 10)
        let good = directory.appendingPathComponent("good.jsonl").path
        try events.jsonLines().write(to: URL(fileURLWithPath: good))
        #expect(try await run(["publish", "-f", good, "--window", "4"] + flags) == "10 of 10 events confirmed\n")
        let visits = events.filter { $0.type == .visitStarted || $0.type == .visitUpdated }.count
        let status = try await runCapturingExit(["status"] + flags)
        let visitsLine = try #require(status.output.split(separator: "\n").first { $0.hasPrefix(topology.queue(.visits) + " ") })
        #expect(visitsLine.split(separator: " ").dropFirst().first.map(String.init) == String(visits), "\(status.output)")

        let bad = directory.appendingPathComponent("bad.jsonl").path
        try (events.prefix(1).jsonLines() + Data("{\"not\": \"an event\"}\n".utf8)).write(to: URL(fileURLWithPath: bad))
        let failed = try await runCapturingExit(["publish", "-f", bad] + flags)
        #expect(failed.exitCode == ExitCode(1))
        #expect(failed.output.hasPrefix("1 of 2 events confirmed, 1 failed:\n  line 2: "), "\(failed.output)")
        try await removeTopology()
    }

    @Test("parking list, replay and purge on an empty parking lot")
    func parking() async throws {
        _ = try await run(["topology", "declare"] + flags)
        #expect(try await run(["parking", "list"] + flags) == "0 parked message(s)\n")
        #expect(try await run(["parking", "replay", "--code", "salesforce"] + flags) == "replayed 0, kept 0 parked\n")
        #expect(try await run(["parking", "purge", "--yes"] + flags) == "purged 0 parked message(s)\n")
        try await removeTopology()
    }
}
