import ArgumentParser
import Fleet
import Foundation

extension DocsendSync {
    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish events from a JSON Lines file (one event per line) with publisher confirms.",
            discussion: "Each line is checked against the event contract first; violations are reported with their line number and not published. Exits 1 when any event was not confirmed.")

        @OptionGroup var broker: BrokerOptions

        @Option(name: .shortAndLong, help: "The JSON Lines file.")
        var file: String

        @Option(help: "Publishes in flight at once.")
        var window = 64

        func validate() throws {
            guard window > 0 else { throw ValidationError("--window must be at least 1") }
        }

        func run() async throws {
            let topology = try broker.topology()
            let report = try await broker.withConnection(as: "publish") { connection in
                try await publishEventFile(
                    at: file, with: EventPublisher(connection: connection, exchange: topology.activityExchange), window: window)
            }
            say(report.description)
            if !report.failures.isEmpty { throw ExitCode(1) }
        }
    }
}
