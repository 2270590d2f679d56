import AMQP
import ArgumentParser
import Fleet

extension DocsendSync {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show every queue of the topology with its ready messages and consumers.")

        @OptionGroup var broker: BrokerOptions

        func run() async throws {
            bootstrapLogging()
            let topology = try broker.topology()
            let connection = try await broker.connect(as: "status")
            var missing = 0
            print("queue".padding(toLength: 48, withPad: " ", startingAt: 0) + "  ready  consumers")
            for queue in topology.topology.queues {
                let name = queue.name.padding(toLength: 48, withPad: " ", startingAt: 0)
                do {
                    let status = try await connection.queueStatus(queue.name)
                    print("\(name) \(String(status.messages).leftPadded(6)) \(String(status.consumers).leftPadded(10))")
                } catch {
                    missing += 1
                    print("\(name)  missing (run `docsend-sync topology declare`)")
                }
            }
            await connection.close()
            if missing > 0 { throw ExitCode(1) }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

import Foundation
