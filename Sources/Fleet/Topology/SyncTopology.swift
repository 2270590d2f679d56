import AMQP
import Jobs

/// The broker topology of docsend-sync (design.md §2), derived from configuration.
///
/// ```
/// docsend.activity (topic, public)  visit.*               -> <prefix>.visits
///                                   link.*, space_link.*  -> <prefix>.links
///                                   visit.started         -> <prefix>.links (new visitors of a link)
/// <prefix>.work (direct, internal)  routing key = queue name: lead requests, retries and re-syncs
///                                   coming back, parked messages, a team's jobs beyond its share
///   <prefix>.<role>.overflow           a team's jobs beyond its share of a process (JobProcessor, TeamShares)
/// <prefix>.delay (direct)           routing key = tier queue name
///   <prefix>.<role>.retry.<interval>   TTL = interval, dead-letters to <prefix>.work / <prefix>.<role>
///   <prefix>.visits.resync.<interval>  the periodic visit re-sync tier
///   <prefix>.links.refresh.<interval>  batches a burst of new link visitors into one Task update
/// <prefix>.parking                  what failed for good, with headers saying why
/// ```
///
/// Every queue is a quorum queue. A tier's interval is part of its name, so changing an interval in
/// configuration makes a new queue instead of clashing with the arguments of an existing one. Work
/// queues dead-letter to the parking queue once a message was delivered `deliveryLimit` times without
/// being settled (a poison message that crashes workers).
public struct SyncTopology: Sendable, Equatable {
    /// The three kinds of work, each with its own queue (one type for the fleet: ``WorkerRole``).
    public typealias Role = WorkerRole

    /// A delay tier: messages published to it come back to `target` after `interval`.
    public struct Tier: Sendable, Equatable {
        public let queue: String
        public let target: String
        public let interval: Duration
    }

    public var prefix: String
    /// The public exchange producers publish to (the event contract).
    public var activityExchange: String
    public var retryIntervals: [Duration]
    public var resyncInterval: Duration
    /// How long new visitors of a link are gathered before the link's Task is updated once for all of them.
    public var visitorRefreshDelay: Duration
    public var deliveryLimit: Int

    public init(
        prefix: String = "docsend-sync", activityExchange: String = "docsend.activity",
        retryIntervals: [Duration] = [.seconds(5), .seconds(60), .seconds(600)], resyncInterval: Duration = .seconds(600),
        visitorRefreshDelay: Duration = .seconds(10), deliveryLimit: Int = 20
    ) {
        self.prefix = prefix
        self.activityExchange = activityExchange
        self.retryIntervals = retryIntervals
        self.resyncInterval = resyncInterval
        self.visitorRefreshDelay = visitorRefreshDelay
        self.deliveryLimit = deliveryLimit
    }

    public var workExchange: String { "\(prefix).work" }
    public var delayExchange: String { "\(prefix).delay" }
    public var parkingQueue: String { "\(prefix).parking" }

    /// The parking queue's delivery limit: high enough that listing never drops a parked message.
    public static let parkingDeliveryLimit: Int64 = 1_000_000_000

    public func queue(_ role: Role) -> String { "\(prefix).\(role.rawValue)" }

    /// Where a process moves a team's jobs beyond its share, so that the role's queue keeps flowing for the others.
    public func overflowQueue(_ role: Role) -> String { "\(queue(role)).overflow" }

    /// Routing keys of the public exchange that feed each role.
    public func eventBindings(_ role: Role) -> [String] { role.eventBindings }

    /// The retry strategy the tiers implement.
    public var retryStrategy: RetryStrategy { .tiers(retryIntervals) }

    /// The delay tier a follow-up job with `delay` goes through; `nil` for one sent at once.
    public func tier(for delay: JobDelay) -> Tier? {
        switch delay {
        case .none: nil
        case .resync: resyncTier
        case .visitorRefresh: visitorRefreshTier
        }
    }

    /// Retry tiers of a role, shortest first.
    public func retryTiers(_ role: Role) -> [Tier] {
        retryIntervals.sorted().map {
            Tier(queue: "\(queue(role)).retry.\(IntervalFormat.format($0))", target: queue(role), interval: $0)
        }
    }

    /// The tier that brings a visit back for its periodic re-sync.
    public var resyncTier: Tier {
        Tier(queue: "\(queue(.visits)).resync.\(IntervalFormat.format(resyncInterval))", target: queue(.visits), interval: resyncInterval)
    }

    /// The tier that brings a link back to update its Task with the visitors gathered meanwhile.
    public var visitorRefreshTier: Tier {
        Tier(
            queue: "\(queue(.links)).refresh.\(IntervalFormat.format(visitorRefreshDelay))", target: queue(.links),
            interval: visitorRefreshDelay)
    }

    /// The tier for the `attempt`-th retry (1-based); `nil` when the attempts are used up.
    public func retryTier(_ role: Role, attempt: Int) -> Tier? {
        let tiers = retryTiers(role)
        guard attempt >= 1, attempt <= tiers.count else { return nil }
        return tiers[attempt - 1]
    }

    /// Every exchange, queue and binding, ready to declare or export.
    public var topology: Topology {
        let quorum: [String: AMQPValue] = [
            "x-queue-type": "quorum",
            // At-least-once dead-lettering (quorum queues, RabbitMQ 3.10+) needs reject-publish overflow.
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        ]
        var queues: [Topology.Queue] = []
        var bindings: [Topology.Binding] = []
        for role in Role.allCases {
            var arguments = quorum
            arguments["x-dead-letter-exchange"] = .string(workExchange)
            arguments["x-dead-letter-routing-key"] = .string(parkingQueue)
            arguments["x-delivery-limit"] = .int(Int64(deliveryLimit))
            queues.append(.init(name: queue(role), arguments: arguments))
            bindings.append(.init(exchange: workExchange, queue: queue(role), routingKey: queue(role)))
            for key in eventBindings(role) {
                bindings.append(.init(exchange: activityExchange, queue: queue(role), routingKey: key))
            }
            queues.append(.init(name: overflowQueue(role), arguments: arguments))
            bindings.append(.init(exchange: workExchange, queue: overflowQueue(role), routingKey: overflowQueue(role)))
        }
        let tiers = Role.allCases.flatMap(retryTiers) + [resyncTier, visitorRefreshTier]
        for tier in tiers {
            var arguments = quorum
            arguments["x-message-ttl"] = .int(IntervalFormat.wholeMilliseconds(tier.interval))
            arguments["x-dead-letter-exchange"] = .string(workExchange)
            arguments["x-dead-letter-routing-key"] = .string(tier.target)
            queues.append(.init(name: tier.queue, arguments: arguments))
            bindings.append(.init(exchange: delayExchange, queue: tier.queue, routingKey: tier.queue))
        }
        // Listing the parking lot peeks (deliver, then requeue), and a quorum queue counts every such return:
        // RabbitMQ 4 drops a message returned 20 times by default. The explicit limit is one no operator reaches.
        queues.append(
            .init(name: parkingQueue, arguments: ["x-queue-type": "quorum", "x-delivery-limit": .int(Self.parkingDeliveryLimit)]))
        bindings.append(.init(exchange: workExchange, queue: parkingQueue, routingKey: parkingQueue))
        return Topology(
            exchanges: [
                .init(name: activityExchange, type: "topic"),
                .init(name: workExchange, type: "direct"),
                .init(name: delayExchange, type: "direct"),
            ],
            queues: queues,
            bindings: bindings
        )
    }
}
