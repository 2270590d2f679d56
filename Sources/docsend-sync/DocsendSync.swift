import ArgumentParser
import Foundation
import Logging

@main
struct DocsendSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docsend-sync",
        abstract: "Syncs DocSend activity into Salesforce through RabbitMQ.",
        discussion: """
            Every option can also come from the environment: the key `amqp.url` is read from \
            DOCSEND_SYNC_AMQP_URL, and so on (see the README for the full list).
            """,
        subcommands: [Worker.self, Team.self, Parking.self, Topology.self, Publish.self, Simulate.self, Status.self]
    )
}

/// Writes a line to standard output at once (unbuffered), so progress shows as it happens, also when
/// standard output is a file or a pipe.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// swift-log to standard error, at the level of DOCSEND_SYNC_LOG_LEVEL (default `info`).
func bootstrapLogging() {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = Logger.Level(rawValue: ProcessInfo.processInfo.environment["DOCSEND_SYNC_LOG_LEVEL"] ?? "info") ?? .info
        return handler
    }
}

