/// Which received job a ``JobProcessor`` starts next, so that one team's burst never starves the others (docs/design.md,
/// "Fairness between teams").
///
/// A team has at most ``perTeam`` jobs in work in the processor, and as many more waiting here for a place. A job that
/// arrives on the role's main queue beyond that (the team is bursting) is moved to the role's overflow queue
/// (``Placement/overflow``): the main queue keeps flowing at broker speed, so a quiet team's job never waits behind
/// another team's backlog, and a team's short burst (up to twice its share) is never sent behind a long one. Jobs
/// from the overflow queue are never moved again; they wait here for their team's next free place. Jobs start in
/// arrival order among those whose team is under its share, while fewer than ``total`` are in work.
///
/// A job without a team (its message did not decode) has no share: it is parked at once.
struct TeamShares<Element> {
    /// Where an offered job went.
    enum Placement: Equatable {
        /// Waiting here for a place.
        case waiting
        /// To be moved to the overflow queue: its team has its share in work and as many waiting.
        case overflow
    }

    struct Entry {
        let element: Element
        let team: String?
    }

    /// The most jobs of one team in work at once.
    let perTeam: Int
    /// The most jobs in work at once.
    let total: Int
    /// Received and not started, in arrival order.
    private(set) var waiting: [Entry] = []
    private var waitingByTeam: [String: Int] = [:]
    private var inWorkByTeam: [String: Int] = [:]
    /// Jobs started and not finished.
    private(set) var inWork = 0

    init(perTeam: Int, total: Int) {
        self.total = max(1, total)
        self.perTeam = min(max(1, perTeam), self.total)
    }

    /// Takes a job that arrived on `lane`: it waits here, or (from the main lane only) goes to the overflow queue.
    mutating func offer(_ element: Element, team: String?, lane: JobLane) -> Placement {
        if lane == .main, let team, inWorkByTeam[team, default: 0] + waitingByTeam[team, default: 0] >= 2 * perTeam {
            return .overflow
        }
        waiting.append(Entry(element: element, team: team))
        if let team { waitingByTeam[team, default: 0] += 1 }
        return .waiting
    }

    /// The next job to start, counted in work; `nil` when every place is taken or every waiting job's team has its
    /// share in work.
    mutating func next() -> Entry? {
        guard inWork < total,
            let index = waiting.firstIndex(where: { entry in entry.team.map { inWorkByTeam[$0, default: 0] < perTeam } ?? true })
        else { return nil }
        let entry = waiting.remove(at: index)
        inWork += 1
        if let team = entry.team {
            waitingByTeam[team, default: 1] -= 1
            if waitingByTeam[team] == 0 { waitingByTeam[team] = nil }
            inWorkByTeam[team, default: 0] += 1
        }
        return entry
    }

    /// A job of `team` started by ``next()`` is settled.
    mutating func finished(team: String?) {
        inWork -= 1
        guard let team else { return }
        inWorkByTeam[team, default: 1] -= 1
        if inWorkByTeam[team] == 0 { inWorkByTeam[team] = nil }
    }

    /// Empties the waiting jobs (a graceful stop hands them back), oldest first.
    mutating func removeWaiting() -> [Element] {
        defer {
            waiting = []
            waitingByTeam = [:]
        }
        return waiting.map(\.element)
    }

    /// Jobs of `team` in work.
    func inWork(team: String) -> Int { inWorkByTeam[team, default: 0] }
}

extension TeamShares.Entry: Sendable where Element: Sendable {}

/// The two queues of a role: its main queue, fed by producers and the fleet, and its overflow queue, where a
/// processor moves a team's jobs beyond its share (``TeamShares``).
public enum JobLane: String, Sendable, CaseIterable {
    case main
    case overflow
}
