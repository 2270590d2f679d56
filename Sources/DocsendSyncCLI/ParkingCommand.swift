import ArgumentParser
import Fleet
import Foundation
import Workers

extension DocsendSync {
    struct Parking: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, replay or purge the messages that failed for good.",
            subcommands: [List.self, Replay.self, Purge.self])
    }
}

extension DocsendSync.Parking {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show parked messages and why they were parked.")

        @OptionGroup var broker: BrokerOptions

        @Option(help: "At most this many.") var limit = 100

        func run() async throws {
            let topology = try broker.topology()
            try await broker.withConnection(as: "parking list") { connection in
                let parked = try await ParkingLot(connection: connection, topology: topology).list(limit: limit)
                say("\(parked.count) parked message(s)")
                for message in parked {
                    say("")
                    say("\(message.properties.type ?? "?") \(message.properties.messageID ?? "(no message id)")")
                    say("  code:     \(message.failureCode ?? "(parked by the broker: delivery limit)")")
                    say("  reason:   \(message.failureReason ?? "-")")
                    say("  at:       \(message.failedAt ?? "-")   attempts: \(message.attempts)")
                    say("  from:     \(message.originQueue ?? "?")")
                    say("  body:     \(String(decoding: message.body.prefix(300), as: UTF8.self))")
                }
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send parked messages back to their work queue (once their cause is fixed).")

        @OptionGroup var broker: BrokerOptions

        @Option(help: "Only messages whose failure code starts with this, e.g. team_not_connected or salesforce.")
        var code: String?

        @Option(help: "At most this many.") var limit: Int?

        func run() async throws {
            let topology = try broker.topology()
            try await broker.withConnection(as: "parking replay") { connection in
                let result = try await ParkingLot(connection: connection, topology: topology)
                    .replay(codePrefix: code, limit: limit ?? .max)
                say("replayed \(result.replayed), kept \(result.kept) parked")
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Drop every parked message.")

        @OptionGroup var broker: BrokerOptions

        @Flag(help: "Confirm: the messages are gone for good.") var yes = false

        func validate() throws {
            guard yes else { throw ValidationError("purging drops the messages for good: add --yes") }
        }

        func run() async throws {
            let topology = try broker.topology()
            let count = try await broker.withConnection(as: "parking purge") {
                try await ParkingLot(connection: $0, topology: topology).purge()
            }
            say("purged \(count) parked message(s)")
        }
    }
}
