import AMQP
import ArgumentParser
import Fleet
import Foundation
import Logging
import Synchronization
import SyncCore
import Testing

@testable import DocsendSyncCLI

/// The commands, or the parts of them, that need no broker, store or Salesforce, run in this process.
@Suite("docsend-sync: commands run in-process")
struct RunTests {
    /// Flags for every topology key, so the environment of the test run does not matter.
    static let topologyFlags = [
        "--topology-prefix", "cli-test", "--exchange", "cli.activity", "--retry-intervals", "5s,1m",
        "--resync-interval", "10m",
    ]

    @Test("topology export prints the topology's RabbitMQ definitions for the vhost")
    func topologyExport() async throws {
        let printed = try await run(["topology", "export", "--vhost", "sync"] + Self.topologyFlags)
        let expected = try SyncTopology(
            prefix: "cli-test", activityExchange: "cli.activity", retryIntervals: [.seconds(5), .seconds(60)],
            resyncInterval: .seconds(600)
        ).topology.definitionsJSON(vhost: "sync")
        #expect(printed == String(decoding: expected, as: UTF8.self))

        let definitions = try #require(try JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [String: Any])
        let queues = try #require(definitions["queues"] as? [[String: Any]])
        let names = Set(queues.compactMap { $0["name"] as? String })
        for queue in ["cli-test.visits", "cli-test.links", "cli-test.leads", "cli-test.parking", "cli-test.visits.retry.1m"] {
            #expect(names.contains(queue), "\(queue) in \(names.sorted())")
        }
        #expect(queues.allSatisfy { $0["vhost"] as? String == "sync" })
    }

    @Test("simulate -o - writes the stream as JSON Lines; the same seed gives the same events")
    func simulateToStandardOutput() async throws {
        let first = try await run(["simulate", "--seed", "7", "--count", "25", "--rate", "0", "-o", "-"])
        let again = try await run(["simulate", "--seed", "7", "--count", "25", "--rate", "0", "-o", "-"])
        let other = try await run(["simulate", "--seed", "8", "--count", "25", "--rate", "0", "-o", "-"])
        let events = try Event.decodeJSONLines(Data(first.utf8)).map { try $0.result.get() }
        #expect(events.count == 25)
        #expect(first.split(separator: "\n").count == 25, "only the events, no progress lines")
        let decodedAgain = try Event.decodeJSONLines(Data(again.utf8)).map { try $0.result.get() }
        #expect(decodedAgain.map(\.id) == events.map(\.id))
        #expect(decodedAgain.map(\.type) == events.map(\.type))
        let decodedOther = try Event.decodeJSONLines(Data(other.utf8)).map { try $0.result.get() }
        #expect(decodedOther.map(\.id) != events.map(\.id))
    }

    @Test("simulate -o FILE writes the file and says how many events")
    func simulateToFile() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("events.jsonl").path
        let printed = try await run(["simulate", "--count", "12", "--duplicates", "0.5", "-o", file])
        #expect(printed == "wrote 12 events to \(file)\n")
        let lines = Event.decodeJSONLines(try Data(contentsOf: URL(fileURLWithPath: file)))
        #expect(lines.count == 12)
        #expect(lines.allSatisfy { (try? $0.result.get()) != nil })
    }

    @Test("simulate --count 0 writes nothing")
    func simulateNothing() async throws {
        #expect(try await run(["simulate", "--count", "0", "-o", "-"]) == "")
    }

    @Test("simulate refuses a file it cannot create")
    func simulateUnwritable() async throws {
        let path = "/nonexistent-\(UUID().uuidString)/events.jsonl"
        let error = await #expect(throws: ValidationError.self) {
            try await run(["simulate", "--count", "1", "-o", path])
        }
        #expect(error.map(message(of:)) == "cannot write \(path)")
    }

    @Test("team set refuses bad mappings and links before it opens the store", arguments: [
        (["--map", "nonsense"], "--map expects PROPERTY=FIELD with a known property, got nonsense"),
        (["--map", "no_such_property=Field__c"], "--map expects PROPERTY=FIELD with a known property, got no_such_property=Field__c"),
        (["--map", "document_name="], "--map expects PROPERTY=FIELD with a known property, got document_name="),
        (["--unmap", "no_such_property"], "unknown property no_such_property"),
        (["--link-account", "acc_1"], "--link-account expects DOCSEND_ACCOUNT_ID=SALESFORCE_ACCOUNT_ID, got acc_1"),
        (["--link-account", "=001A"], "--link-account expects DOCSEND_ACCOUNT_ID=SALESFORCE_ACCOUNT_ID, got =001A"),
    ])
    func teamSetRefuses(flags: [String], expected: String) async throws {
        // A store URL nothing could open: reaching the store would fail with another error.
        let arguments = ["team", "set", "--team", "t", "--store-url", "unsupported://nowhere"] + flags
        let error = await #expect(throws: ValidationError.self) { try await run(arguments) }
        #expect(error.map(message(of:)) == expected)
    }

    @Test("team connect refuses an empty refresh token file before it opens the store")
    func connectEmptyToken() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("token").path
        try Data(" \n".utf8).write(to: URL(fileURLWithPath: file))
        let arguments = ["team", "connect", "--team", "t", "--refresh-token-file", file, "--store-url", "unsupported://nowhere"]
        let error = await #expect(throws: ValidationError.self) { try await run(arguments) }
        #expect(error.map(message(of:)) == "the refresh token file is empty")
    }
}

/// The one logging bootstrap: the level comes from DOCSEND_SYNC_LOG_LEVEL, the commands' loggers from one place.
@Suite("docsend-sync: logging")
struct CommandLoggingTests {
    @Test("the level is DOCSEND_SYNC_LOG_LEVEL, info when unset or not a level", arguments: [
        ([:], Logger.Level.info), (["DOCSEND_SYNC_LOG_LEVEL": "debug"], .debug),
        (["DOCSEND_SYNC_LOG_LEVEL": "trace"], .trace), (["DOCSEND_SYNC_LOG_LEVEL": "error"], .error),
        (["DOCSEND_SYNC_LOG_LEVEL": "loud"], .info), (["DOCSEND_SYNC_LOG_LEVEL": "DEBUG"], .info),
    ])
    func level(environment: [String: String], expected: Logger.Level) {
        #expect(CommandLogging.level(environment: environment) == expected)
        #expect(CommandLogging.handler(label: "x", environment: environment).logLevel == expected)
    }

    @Test("a command's logger is labelled docsend-sync.COMMAND")
    func label() {
        #expect(CommandLogging.logger("worker").label == "docsend-sync.worker")
        #expect(CommandLogging.logger("team").label == "docsend-sync.team")
    }
}

/// DOCSEND_SYNC_LOG_FORMAT=json: one JSON object per line that a shipper parses, whatever the values hold.
@Suite("docsend-sync: JSON logs")
struct JSONLogTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
    }

    @Test("the format is DOCSEND_SYNC_LOG_FORMAT: text by default, json, or nothing for another name", arguments: [
        ([:], CommandLogging.Format?.some(.text)), (["DOCSEND_SYNC_LOG_FORMAT": "json"], .json),
        (["DOCSEND_SYNC_LOG_FORMAT": "text"], .text), (["DOCSEND_SYNC_LOG_FORMAT": "xml"], nil),
    ])
    func format(environment: [String: String], expected: CommandLogging.Format?) {
        #expect(CommandLogging.format(environment: environment) == expected)
        let handler = CommandLogging.handler(label: "x", environment: environment)
        #expect((handler is JSONLogHandler) == (expected == .json))
    }

    @Test("each line is one JSON object with the fixed fields and every metadata key, hostile values escaped")
    func lines() throws {
        let output = Lines()
        var logger = Logger(label: "docsend-sync.worker") { label in
            var handler = JSONLogHandler(label: label) { line in output.lines.withLock { $0.append(line) } }
            handler.logLevel = .debug
            return handler
        }
        logger[metadataKey: "docsend-team"] = "team_1"
        logger[metadataKey: "docsend-queue"] = "docsend-sync.visits"
        let hostile = "a\n{\"level\":\"critical\"}\u{0}\u{1B}[31m\\\"\u{2028}é😀"
        logger.error(
            "parked: \(hostile)",
            metadata: [
                "docsend-event": "visit.started", "docsend-message-id": "\(hostile)", "message": "shadowing",
                "docsend-nested": ["list": ["1", "2"], "n": "\(42)"],
            ])
        logger.trace("below the level")
        let lines = output.all
        try #require(lines.count == 1)
        let line = lines[0]
        #expect(line.hasSuffix("}\n") && line.dropLast().firstIndex(of: "\n") == nil, "one line: \(line)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "error")
        #expect(object["label"] as? String == "docsend-sync.worker")
        #expect(object["message"] as? String == "parked: \(hostile)")
        #expect(object["metadata.message"] as? String == "shadowing")
        #expect(object["docsend-message-id"] as? String == hostile)
        #expect(object["docsend-team"] as? String == "team_1")
        #expect(object["docsend-queue"] as? String == "docsend-sync.visits")
        #expect(object["docsend-event"] as? String == "visit.started")
        #expect(object["source"] as? String == "CLITests")
        let nested = try #require(object["docsend-nested"] as? [String: Any])
        #expect(nested["list"] as? [String] == ["1", "2"] && nested["n"] as? String == "42")
        let timestamp = try #require(object["timestamp"] as? String)
        #expect(timestamp.hasSuffix("Z") && timestamp.contains("."), "\(timestamp)")
        #expect(try Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(timestamp) <= Date())
    }
}
