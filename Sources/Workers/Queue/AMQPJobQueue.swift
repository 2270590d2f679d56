import AMQP
import Fleet
import Foundation
import Jobs
import Logging
import SyncCore

/// The job queue on RabbitMQ (design §2): each role's quorum queue and its overflow queue (``TeamShares``), follow-ups
/// through the work and delay exchanges, retries through the role's retry tiers, parking in the parking queue with
/// headers saying why.
///
/// Deliveries come from one connection and every message (follow-ups, retried and parked copies) goes out
/// through another (`publisher`): a broker resource alarm blocks publishing connections, and acknowledgements
/// must keep flowing while it lasts.
///
/// A delivery reaches a handler only as a decoded ``Job``. Refused before that, and parked:
/// - properties the AMQP layer would not convert (headers nested too deep, too many values):
///   `contract_violation.properties`;
/// - the fleet's internal job names arriving other than through the fleet's own work exchange (a producer forging
///   a re-sync tick or a lead for any team): `contract_violation.internal_type`;
/// - a body that does not decode (``JobCoding/decode(name:body:)``).
public struct AMQPJobQueue: JobQueueDriver {
    let connection: AMQPConnection
    let publisher: AMQPConnection
    let topology: SyncTopology

    /// Jobs consumed on `connection` and published on `publisher` (the same connection when `nil`).
    public init(connection: AMQPConnection, publisher: AMQPConnection? = nil, topology: SyncTopology) {
        self.connection = connection
        self.publisher = publisher ?? connection
        self.topology = topology
    }

    public func receive(_ role: WorkerRole, lane: JobLane, prefetch: Int, logger: Logger) async throws -> JobReceiver {
        let queue = lane == .main ? topology.queue(role) : topology.overflowQueue(role)
        let consumer = try await connection.consume(queue: queue, prefetch: UInt16(clamping: prefetch))
        let (jobs, continuation) = AsyncThrowingStream<ReceivedJob, any Error>.makeStream()
        let forwarding = Task {
            do {
                for try await delivery in consumer {
                    // Nobody reads any more (see below): the delivery goes back to the queue at once.
                    if case .terminated = continuation.yield(received(delivery, role: role)) { delivery.nack(requeue: true) }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        // The processor stopped reading (cancelled, not drained): the broker stops sending, and what it sent back
        // to this consumer meanwhile is handed back by the connection.
        continuation.onTermination = { _ in
            forwarding.cancel()
            consumer.cancel()
        }
        return JobReceiver(jobs, queue: queue) { consumer.cancel() }
    }

    public func push(_ job: Job) async throws {
        let properties = AMQPProperties(
            contentType: "application/json", persistent: true, messageID: job.messageID, timestamp: Date(), type: job.name,
            appID: "docsend-sync")
        let body = try JobCoding.encode(job)
        guard let destination = job.destination else {
            // A public event (tests and `docsend-sync publish` put them on the bus like DocSend does).
            try await publisher.publish(
                AMQPMessage(exchange: topology.activityExchange, routingKey: job.name, body: body, properties: properties))
            return
        }
        let message =
            if let tier = topology.tier(for: destination.delay) {
                AMQPMessage(exchange: topology.delayExchange, routingKey: tier.queue, body: body, properties: properties)
            } else {
                AMQPMessage(
                    exchange: topology.workExchange, routingKey: topology.queue(destination.role), body: body,
                    properties: properties)
            }
        try await publisher.publish(message)
    }

    /// A delivery as a job, or the reason it may not reach a handler.
    func received(_ delivery: AMQPDelivery, role: WorkerRole) -> ReceivedJob {
        let job: Result<Job, WorkFailure>
        do {
            try admit(delivery)
            job = .success(try JobCoding.decode(name: delivery.properties.type, body: delivery.body))
        } catch {
            job = .failure(error)
        }
        return ReceivedJob(
            job: job, failedAttempts: WorkHeaders.attempts(in: delivery.properties.headers),
            messageID: delivery.properties.messageID, name: delivery.properties.type, dueAt: dueAt(job, delivery),
            publicRoutingKey: delivery.exchange == topology.activityExchange ? delivery.routingKey : nil, settlement: Settlement(delivery: delivery, role: role, publisher: publisher, topology: topology))
    }

    /// When a delayed job was due: its send time (the `timestamp` property, whole seconds) plus its delay; for a
    /// retried copy, the first send's time (copies keep it), so the lag includes the retries.
    func dueAt(_ job: Result<Job, WorkFailure>, _ delivery: AMQPDelivery) -> Date? {
        guard case .success(let decoded) = job, let sent = delivery.properties.timestamp,
            let delay = decoded.destination?.delay, let tier = topology.tier(for: delay)
        else { return nil }
        return sent.addingTimeInterval(Double(tier.interval.components.seconds))
    }

    func admit(_ delivery: AMQPDelivery) throws(WorkFailure) {
        if let problem = delivery.propertiesProblem {
            throw WorkFailure.badMessage(code: "contract_violation.properties", "the message's properties were refused: \(problem)")
        }
        if let type = delivery.properties.type, JobName.internalNames.contains(type),
            delivery.exchange != topology.workExchange
        {
            throw WorkFailure.badMessage(
                code: "contract_violation.internal_type",
                "\(type) is internal to docsend-sync and is accepted only through \(topology.workExchange), not "
                    + "through \(delivery.exchange.isEmpty ? "the default exchange" : delivery.exchange)")
        }
    }

    /// Settles a delivery: acks it, or acks it once its retried or parked copy is confirmed.
    struct Settlement: JobSettlement {
        let delivery: AMQPDelivery
        let role: WorkerRole
        let publisher: AMQPConnection
        let topology: SyncTopology

        func complete() { delivery.ack() }

        func release() { delivery.nack(requeue: true) }

        func overflow() async throws {
            // Untouched: the same properties and headers (its attempts, its first send's timestamp).
            try await publisher.publish(
                AMQPMessage(
                    exchange: topology.workExchange, routingKey: topology.overflowQueue(role), body: delivery.body,
                    properties: delivery.properties))
            delivery.ack()
        }

        func retry(after delay: Duration, failures: Int, failure: WorkFailure) async throws {
            guard let tier = topology.retryTiers(role).first(where: { $0.interval == delay }) else {
                throw WorkFailure.permanent(code: "no_retry_tier", "no retry tier of \(delay) for \(role.rawValue)")
            }
            var properties = copyProperties(failures: failures, failure: failure)
            properties.headers[WorkHeaders.failureReason] = .string(SalesforceText.cut(failure.message, to: WorkHeaders.reasonLimit, ellipsis: true))
            try await publisher.publish(
                AMQPMessage(exchange: topology.delayExchange, routingKey: tier.queue, body: delivery.body, properties: properties))
            delivery.ack()
        }

        func park(failures: Int, failure: WorkFailure, reason: String) async throws {
            var properties = copyProperties(failures: failures, failure: failure)
            properties.headers[WorkHeaders.failureReason] = .string(SalesforceText.cut(reason, to: WorkHeaders.reasonLimit, ellipsis: true))
            try await publisher.publish(
                AMQPMessage(
                    exchange: topology.workExchange, routingKey: topology.parkingQueue, body: delivery.body,
                    properties: properties))
            delivery.ack()
        }

        private func copyProperties(failures: Int, failure: WorkFailure) -> AMQPProperties {
            var properties = WorkHeaders.republished(delivery.properties)
            properties.headers[WorkHeaders.attempts] = .int(Int64(failures))
            properties.headers[WorkHeaders.failureCode] = .string(failure.code)
            properties.headers[WorkHeaders.failedAt] = .string(Date().formatted(.iso8601))
            properties.headers[WorkHeaders.originQueue] = .string(topology.queue(role))
            return properties
        }
    }
}
