import AMQP
import ArgumentParser
import Foundation
import Logging

/// The Swift side of scripts/bench-amqp: the same work as benchmarks/amqp-c/bench.c, through the AMQP
/// module. One connection publishes `count` persistent messages of `size` bytes to a quorum queue with
/// confirms (`window` unconfirmed at most); another consumes them with manual acks (`prefetch`).
@main
struct AMQPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "amqp-bench", abstract: "Publish-with-confirms plus consume-with-acks throughput of the AMQP module.")

    @Option(help: "Broker URL.") var url = "amqp://guest:guest@127.0.0.1:5672/"
    @Option(help: "Queue name (declared as a quorum queue, deleted afterwards).") var queue = "amqp-bench.swift"
    @Option(help: "Messages.") var count = 50_000
    @Option(help: "Body size in bytes.") var size = 1024
    @Option(help: "Unconfirmed publishes in flight.") var window = 100
    @Option(help: "Consumer prefetch.") var prefetch: UInt16 = 200

    func run() async throws {
        var configuration = try AMQPConfiguration(url: url)
        let logger = Logger(label: "amqp-bench")
        configuration.connectionName = "amqp-bench consumer"
        let consumerConnection = try await AMQPConnection.connect(configuration, logger: logger)
        configuration.connectionName = "amqp-bench publisher"
        let publisherConnection = try await AMQPConnection.connect(configuration, logger: logger)
        try await consumerConnection.declare(
            Topology(queues: [.init(name: queue, arguments: ["x-queue-type": "quorum"])]), redeclareOnReconnect: false)
        let consumer = try await consumerConnection.consume(queue: queue, prefetch: prefetch)

        let body = Data(repeating: UInt8(ascii: "x"), count: size)
        let message = AMQPMessage(
            exchange: "", routingKey: queue, body: body, properties: .init(contentType: "application/octet-stream"))
        let (count, window) = (self.count, self.window)
        let started = ContinuousClock.now
        async let published: Void = withThrowingTaskGroup(of: Void.self) { group in
            // `window` publishers, each waiting for its confirm before the next: `window` in flight.
            for worker in 0..<window {
                group.addTask {
                    for _ in stride(from: worker, to: count, by: window) { try await publisherConnection.publish(message) }
                }
            }
            try await group.waitForAll()
        }
        var received = 0
        for try await delivery in consumer {
            delivery.ack()
            received += 1
            if received == count { break }
        }
        let elapsed = ContinuousClock.now - started
        try await published
        consumer.cancel()
        try await consumerConnection.deleteQueue(queue)
        await publisherConnection.close()
        await consumerConnection.close()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "swift messages=%d seconds=%.3f rate=%.0f", count, seconds, Double(count) / seconds))
    }
}
