import AMQP
import ArgumentParser
import Fleet
import Foundation

extension DocsendSync {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show every queue of the topology with its ready messages and consumers.")

        @OptionGroup var broker: BrokerOptions

        func run() async throws {
            let queues = try broker.topology().topology.queues
            let missing = try await broker.withConnection(as: "status") { connection in
                var missing = 0
                say("queue".padding(toLength: 48, withPad: " ", startingAt: 0) + "  ready  consumers")
                for queue in queues {
                    let name = queue.name.padding(toLength: 48, withPad: " ", startingAt: 0)
                    do {
                        let status = try await connection.queueStatus(queue.name)
                        say("\(name) \(String(status.messages).leftPadded(6)) \(String(status.consumers).leftPadded(10))")
                    } catch {
                        missing += 1
                        say("\(name)  missing (run `docsend-sync topology declare`)")
                    }
                }
                return missing
            }
            if missing > 0 { throw ExitCode(1) }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

