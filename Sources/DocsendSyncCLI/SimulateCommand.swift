import ArgumentParser
import Fleet
import Foundation
import SyncCore

extension DocsendSync {
    struct Simulate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a realistic DocSend activity stream and publish it (or write it as JSON Lines).",
            discussion: "Visits with updates over time and endings, repeat visitors, links, space links, unmatched and missing emails. The same seed gives the same stream.")

        @OptionGroup var broker: BrokerOptions

        @Option(help: "Seed of the stream.")
        var seed: UInt64 = 1

        @Option(help: "How many events.")
        var count = 1_000

        @Option(help: "Events per second, on average, when publishing (0: as fast as the broker confirms). Each event goes out when its occurred_at comes, so its timestamps are the present; duplicates come on top.")
        var rate: Double = 20

        @Option(help: "Share of events sent twice with the same id (tests idempotency), 0 to 1.")
        var duplicates: Double = 0

        @Option(name: .shortAndLong, help: "Write JSON Lines to this file ('-' for standard output) instead of publishing.")
        var output: String?

        @Option(help: "Print a `published N/COUNT` line every this many events.")
        var progress = 100

        func validate() throws {
            guard count >= 0 else { throw ValidationError("--count must not be negative") }
            guard rate >= 0 else { throw ValidationError("--rate must not be negative") }
            guard (0...1).contains(duplicates) else { throw ValidationError("--duplicates is a share from 0 to 1") }
            guard progress > 0 else { throw ValidationError("--progress must be at least 1") }
        }

        func run() async throws {
            var configuration = ActivitySimulator.Configuration()
            configuration.start = Date()
            if rate > 0 { configuration.eventsPerSecond = rate }
            configuration.duplicateRatio = duplicates
            // The stream is generated lazily: a long or endless run never holds more than one event.
            let events = ActivitySimulator(seed: seed, configuration: configuration).prefix(count)

            if let output {
                let file: FileHandle?
                if output == "-" {
                    file = nil
                } else {
                    guard FileManager.default.createFile(atPath: output, contents: nil), let handle = FileHandle(forWritingAtPath: output) else {
                        throw ValidationError("cannot write \(output)")
                    }
                    file = handle
                }
                let write: (Data) -> Void = file.map { file in { file.write($0) } } ?? CommandOutput.current.write
                var written = 0
                for event in events {
                    write(event.encoded() + Data("\n".utf8))
                    written += 1
                }
                if let file {
                    try file.close()
                    say("wrote \(written) events to \(output)")
                }
                return
            }

            let topology = try broker.topology()
            let (rate, progress, count) = (self.rate, self.progress, self.count)
            let published = try await broker.withConnection(as: "simulate") { connection in
                let publisher = EventPublisher(connection: connection, exchange: topology.activityExchange)
                var published = 0
                for event in events {
                    // Paced by the events' own clock (it starts now): workers compare an event's timestamps
                    // with the present, e.g. to tell whether a visit is still active. A duplicate does not
                    // advance that clock and goes out at once.
                    if rate > 0 {
                        let wait = event.occurredAt.timeIntervalSinceNow
                        if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
                    }
                    try await publisher.publish(event)
                    published += 1
                    if published % progress == 0 { say("published \(published)/\(count)") }
                }
                return published
            }
            say("published \(published) events (seed \(seed)) to \(topology.activityExchange)")
        }
    }
}
