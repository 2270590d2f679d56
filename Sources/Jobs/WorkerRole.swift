/// The three kinds of work, each with its own queue: the one `Role` of the fleet (the topology, the workers and
/// the CLI's `worker visits|links|leads` all use it).
public enum WorkerRole: String, Sendable, CaseIterable, Codable {
    case visits, links, leads

    /// Topic patterns of the public event types this role consumes (the broker binds its queue with them; the
    /// in-memory queue routes with them too).
    public var eventBindings: [String] {
        switch self {
        case .visits: ["visit.*"]
        case .links: ["link.*", "space_link.*", "visit.started"]
        case .leads: []  // lead requests are internal
        }
    }

    /// Whether an event of `type` (e.g. `visit.started`) reaches this role.
    public func consumes(eventType type: String) -> Bool {
        eventBindings.contains { Self.topic($0, matches: type) }
    }

    /// The role that parks a public event that is not one a handler may see (bad JSON, a contract violation), when
    /// several roles receive it (`visit.started` reaches visits and links): the first role consuming it, so that an
    /// operator sees each bad event parked once. `nil` when no role consumes it.
    public static func parkingRole(forEventRoutedBy key: String) -> WorkerRole? {
        allCases.first { $0.consumes(eventType: key) }
    }

    /// AMQP topic matching for the patterns above: `*` stands for exactly one dot-separated word.
    static func topic(_ pattern: String, matches key: String) -> Bool {
        let words = pattern.split(separator: ".", omittingEmptySubsequences: false)
        let keyWords = key.split(separator: ".", omittingEmptySubsequences: false)
        guard words.count == keyWords.count else { return false }
        return zip(words, keyWords).allSatisfy { $0 == "*" || $0 == $1 }
    }
}
