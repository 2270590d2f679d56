import AMQP
import ArgumentParser
import Fleet
import Foundation

extension DocsendSync {
    struct Topology: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Declare the broker topology, or print it as RabbitMQ definitions.",
            subcommands: [Declare.self, Export.self])
    }
}

extension DocsendSync.Topology {
    struct Declare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Declare exchanges, queues and bindings on the broker (idempotent).")

        @OptionGroup var broker: BrokerOptions

        func run() async throws {
            let declared = try broker.topology().topology
            let brokerURL = try await broker.withConnection(as: "topology declare") { connection in
                try await connection.declare(declared, redeclareOnReconnect: false)
                return connection.configuration.redactedURL
            }
            say("declared \(declared.exchanges.count) exchanges, \(declared.queues.count) queues, \(declared.bindings.count) bindings on \(brokerURL)")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the topology as RabbitMQ definitions JSON (for load_definitions or the HTTP API).")

        @OptionGroup var broker: BrokerOptions

        @Option(help: "The vhost written in the definitions.")
        var vhost = "/"

        func run() throws {
            let data = try broker.topology().topology.definitionsJSON(vhost: vhost)
            CommandOutput.current.write(data)
        }
    }
}
