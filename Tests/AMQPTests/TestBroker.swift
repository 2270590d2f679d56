import AMQP
import Foundation
import Testing

/// The private broker `scripts/test` starts, described by environment variables.
enum TestBroker {
    static let environment = ProcessInfo.processInfo.environment
    static let url = environment["DOCSEND_TEST_AMQP_URL"]
    static let tlsURL = environment["DOCSEND_TEST_AMQPS_URL"]
    static let caFile = environment["DOCSEND_TEST_AMQP_CA_FILE"]
    static let node = environment["DOCSEND_TEST_RABBITMQ_NODE"]

    /// Broker tests run when a broker is described, and fail (rather than skip) when `scripts/test`
    /// says one must be there.
    static let isAvailable = url != nil || environment["DOCSEND_TEST_REQUIRE_SERVICES"] == "1"

    static func configuration(heartbeat: Int = 30, name: String = #function) throws -> AMQPConfiguration {
        var configuration = try AMQPConfiguration(url: url ?? "amqp://guest:guest@127.0.0.1:5672/")
        configuration.heartbeat = heartbeat
        configuration.connectionName = "docsend-sync tests: \(name)"
        return configuration
    }

    static func connect(heartbeat: Int = 30, name: String = #function) async throws -> AMQPConnection {
        try await AMQPConnection.connect(configuration(heartbeat: heartbeat, name: name))
    }

    /// A queue name no other test uses.
    static func uniqueName(_ prefix: String = #function) -> String {
        let cleaned = prefix.filter { $0.isLetter || $0.isNumber }
        return "test.\(cleaned).\(UUID().uuidString.prefix(8))"
    }

    /// Runs `rabbitmqctl` against the private node.
    @discardableResult
    static func rabbitmqctl(_ arguments: String...) throws -> String {
        guard let node else { throw TestFailure("DOCSEND_TEST_RABBITMQ_NODE is not set") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["rabbitmqctl", "-n", node, "-q"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw TestFailure("rabbitmqctl \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Waits until `condition` holds, polling; fails after `timeout`.
func eventually(
    timeout: Duration = .seconds(20), _ what: String, _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("timed out waiting for: \(what)")
}
