import Foundation

/// A deterministic stream of realistic DocSend activity events, for demos, load tests and end-to-end tests.
///
/// Events arrive as a Poisson process at ``Configuration/eventsPerSecond`` from ``Configuration/start``. At each
/// arrival the simulator emits the update of an active visit whose next activity is due, else new activity:
/// mostly a visit (`visit.started` on one of the team's links), sometimes a `link.created` or a
/// `space_link.created`. A visit lasts from seconds to ``Configuration/maximumVisitDuration``, reports rising
/// `percent_viewed` every 10 to 90 seconds (sometimes after a long gap), and ends with `ended: true`, unless it
/// is abandoned and just stops. Visitors repeat, match the team's known Contacts and Leads or not, and
/// sometimes give no email. Duplicates and late deliveries can be injected to exercise idempotency and ordering.
///
/// The same seed and configuration always give the same stream (no clock, no system randomness):
///
/// ```swift
/// var simulator = ActivitySimulator(seed: 42)
/// let events = simulator.events(count: 1_000)
/// let jsonl = events.jsonLines()
/// ```
public struct ActivitySimulator: Sendable, Sequence, IteratorProtocol {
    /// The configuration the stream follows.
    public let configuration: Configuration

    private var random: Xoshiro256StarStar
    /// Simulated time in milliseconds since 1970: whole milliseconds make every timestamp round-trip exactly.
    private var clock: Int64
    /// The exact simulated time in milliseconds, so that rounding never biases the rate.
    private var exactClock: Double
    private var teams: [TeamState]
    private var activeVisits = VisitSchedule()
    private var visitsStarted = 0
    /// Duplicates and late events, each delivered once `emitted` reaches `due`.
    /// Duplicates and late events, each delivered once `emitted` reaches `due`.
    private var pendingDeliveries: [(due: Int, event: Event)] = []
    private var emitted = 0

    /// Creates a simulator whose whole stream is determined by `seed` and `configuration`.
    public init(seed: UInt64, configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.random = Xoshiro256StarStar(seed: seed)
        self.exactClock = (configuration.start.timeIntervalSince1970 * 1000).rounded()
        self.clock = Int64(exactClock)
        self.teams = []
        for team in configuration.teams {
            teams.append(makeTeamState(team))
        }
    }

    /// The next event. The stream is endless: never `nil` (unless the configuration has no team).
    public mutating func next() -> Event? {
        guard !teams.isEmpty else { return nil }
        emitted += 1
        if let index = pendingDeliveries.firstIndex(where: { $0.due <= emitted }) {
            return pendingDeliveries.remove(at: index).event
        }
        while true {
            advanceClock()
            let event = nextActivity()
            if configuration.duplicateRatio > 0, random.chance(configuration.duplicateRatio) {
                pendingDeliveries.append((emitted + 1 + random.below(5), event))
            }
            // Bounded so that a ratio of 1 still delivers: held events are released as the count advances.
            if configuration.lateDeliveryRatio > 0, pendingDeliveries.count < 64,
                random.chance(configuration.lateDeliveryRatio)
            {
                pendingDeliveries.append((emitted + 1 + random.below(30), event))
                continue
            }
            return event
        }
    }

    /// The next `count` events.
    public mutating func events(count: Int) -> [Event] {
        var result: [Event] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            guard let event = next() else { break }
            result.append(event)
        }
        return result
    }

    // MARK: - State

    private struct TeamState: Sendable {
        var team: Team
        var accounts: [AccountInfo]
        var documents: [DocumentInfo]
        var spaces: [(space: SpaceInfo, documents: [DocumentInfo])]
        var links: [LinkState]
        var visitors: [VisitorInfo]
    }

    private struct LinkState: Sendable {
        var id: String
        var ownerEmail: String
        var documents: [DocumentInfo]
        var account: AccountInfo?
    }

    private struct ActiveVisit: Sendable {
        /// Order of creation: breaks ties between visits due at the same millisecond, deterministically.
        var serial: Int
        var visitID: String
        var teamID: String
        var startedAt: Int64
        var endsAt: Int64
        var nextActivityAt: Int64
        var finalPercent: Double
        var abandoned: Bool

        func isDue(before other: ActiveVisit) -> Bool {
            (nextActivityAt, serial) < (other.nextActivityAt, other.serial)
        }
    }

    /// Active visits by next activity: a binary min-heap, so a stream with many concurrent visits (a load
    /// test at thousands of events per second) stays O(log n) per event.
    private struct VisitSchedule: Sendable {
        private var heap: [ActiveVisit] = []

        mutating func push(_ visit: ActiveVisit) {
            heap.append(visit)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard heap[child].isDue(before: heap[parent]) else { break }
                heap.swapAt(child, parent)
                child = parent
            }
        }

        /// Removes and returns the visit due first, if its next activity is at or before `time`.
        mutating func popDue(notAfter time: Int64) -> ActiveVisit? {
            guard let first = heap.first, first.nextActivityAt <= time else { return nil }
            let last = heap.removeLast()
            guard !heap.isEmpty else { return first }
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count, heap[left].isDue(before: heap[smallest]) { smallest = left }
                if right < heap.count, heap[right].isDue(before: heap[smallest]) { smallest = right }
                guard smallest != parent else { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
            return first
        }
    }

    // MARK: - Generation

    private mutating func advanceClock() {
        let rate = Swift.max(configuration.eventsPerSecond, 1e-6)
        let seconds = -log(1 - random.unit()) / rate
        exactClock += seconds * 1000
        clock = Int64(exactClock.rounded(.down))
    }

    private mutating func nextActivity() -> Event {
        while let visit = activeVisits.popDue(notAfter: clock) {
            if let event = update(visit) { return event }
        }
        let draw = random.unit()
        let teamIndex = pickTeamIndex()
        if draw < configuration.linkCreationRatio {
            return createLink(teamIndex: teamIndex)
        }
        if draw < configuration.linkCreationRatio + configuration.spaceLinkCreationRatio {
            return createSpaceLink(teamIndex: teamIndex)
        }
        return startVisit(teamIndex: teamIndex)
    }

    /// The due update of a visit; `nil` when the visit was abandoned and silently ends.
    private mutating func update(_ visit: ActiveVisit) -> Event? {
        var visit = visit
        let activityAt = visit.nextActivityAt
        if activityAt >= visit.endsAt {
            if visit.abandoned { return nil }
            return visitUpdated(visit, activityAt: visit.endsAt, percent: visit.finalPercent, ended: true)
        }
        let progress = Double(activityAt - visit.startedAt) / Double(Swift.max(1, visit.endsAt - visit.startedAt))
        let percent = (visit.finalPercent * pow(progress, 0.7) * 10).rounded(.down) / 10
        visit.nextActivityAt = activityAt + nextActivityInterval()
        activeVisits.push(visit)
        return visitUpdated(visit, activityAt: activityAt, percent: percent, ended: false)
    }

    private mutating func visitUpdated(_ visit: ActiveVisit, activityAt: Int64, percent: Double, ended: Bool)
        -> Event
    {
        Event(
            id: eventID(), occurredAt: date(clock), teamID: visit.teamID,
            payload: .visitUpdated(
                VisitUpdated(
                    visitID: visit.visitID, durationSeconds: Int((activityAt - visit.startedAt) / 1000),
                    percentViewed: Swift.min(100, Swift.max(0, percent)), lastActivityAt: date(activityAt), ended: ended
                )))
    }

    private mutating func nextActivityInterval() -> Int64 {
        let seconds =
            random.chance(configuration.activityGapRatio) ? random.uniform(240...840) : random.uniform(10...90)
        return Int64(seconds * 1000)
    }

    private mutating func startVisit(teamIndex: Int) -> Event {
        let team = teams[teamIndex]
        let link =
            team.links.count > 8 && random.chance(0.5)
            ? team.links[team.links.count - 1 - random.below(8)]  // recent links draw more visits
            : team.links[random.below(team.links.count)]
        let visitor: VisitorInfo
        if !team.visitors.isEmpty, random.chance(configuration.repeatVisitorRatio) {
            visitor = team.visitors[random.below(team.visitors.count)]
        } else {
            visitor = newVisitor(team.team)
            if teams[teamIndex].visitors.count < 1000 { teams[teamIndex].visitors.append(visitor) }
        }

        let startedAt = clock - Int64(random.below(2000))
        let maximum = Swift.max(3, configuration.maximumVisitDuration)
        let position = random.unit()  // log-uniform duration: many short visits, a few long reads
        let durationSeconds = exp(log(3) + position * (log(maximum) - log(3)))
        let finalPercent = Swift.min(100, ((8 + 92 * position) * random.uniform(0.6...1.25) * 10).rounded() / 10)
        let visitID = "vis_" + random.hex(16)
        visitsStarted += 1
        activeVisits.push(
            ActiveVisit(
                serial: visitsStarted, visitID: visitID, teamID: team.team.id, startedAt: startedAt,
                endsAt: startedAt + Int64(durationSeconds * 1000), nextActivityAt: startedAt + nextActivityInterval(),
                finalPercent: Swift.max(1, finalPercent), abandoned: random.chance(configuration.abandonedVisitRatio)))

        let document = link.documents[random.below(link.documents.count)]
        return Event(
            id: eventID(), occurredAt: date(clock), teamID: team.team.id,
            payload: .visitStarted(
                VisitStarted(
                    visitID: visitID, linkID: link.id, linkOwnerEmail: link.ownerEmail, document: document,
                    account: link.account, visitor: visitor,
                    analyticsURL: configuration.docSendBaseURL + "/view/analytics/visits/" + visitID,
                    startedAt: date(startedAt))))
    }

    private mutating func newVisitor(_ team: Team) -> VisitorInfo {
        let known = team.knownContactEmails + team.knownLeadEmails
        if random.chance(configuration.missingEmailRatio) {
            return VisitorInfo(email: nil, name: random.chance(0.3) ? randomPersonName().display : nil)
        }
        if !known.isEmpty, random.chance(configuration.knownVisitorRatio), let email = random.pick(known) {
            let typed = random.chance(configuration.emailCaseVariationRatio) ? varyCase(email) : email
            return VisitorInfo(email: typed, name: random.chance(0.7) ? nameFromEmail(email) : nil)
        }
        let person = randomPersonName()
        let domain = random.pick(Self.unmatchedDomains) ?? "prospect.example"
        let email =
            person.first.lowercased() + "." + person.last.lowercased() + String(random.below(100)) + "@" + domain
        return VisitorInfo(email: email, name: random.chance(0.6) ? person.display : nil)
    }

    private mutating func createLink(teamIndex: Int) -> Event {
        let team = teams[teamIndex]
        let document = team.documents[random.below(team.documents.count)]
        let account = randomAccount(team)
        let creator = random.pick(team.team.memberEmails) ?? "owner@docsend.example"
        let link = LinkState(id: "lnk_" + random.hex(16), ownerEmail: creator, documents: [document], account: account)
        teams[teamIndex].links.append(link)
        let linkName: String? =
            random.chance(0.7)
            ? (account.map { $0.name + " – " } ?? "") + document.name.replacingOccurrences(of: ".pdf", with: "") : nil
        return Event(
            id: eventID(), occurredAt: date(clock), teamID: team.team.id,
            payload: .linkCreated(
                LinkCreated(
                    linkID: link.id, linkName: linkName, creatorEmail: creator, document: document, account: account,
                    internalURL: configuration.docSendBaseURL + "/links/" + link.id,
                    externalURL: configuration.docSendBaseURL + "/view/" + random.hex(8),
                    createdAt: date(clock - Int64(random.below(1000))))))
    }

    private mutating func createSpaceLink(teamIndex: Int) -> Event {
        let team = teams[teamIndex]
        let space = team.spaces[random.below(team.spaces.count)]
        let account = randomAccount(team)
        let creator = random.pick(team.team.memberEmails) ?? "owner@docsend.example"
        let link = LinkState(
            id: "spl_" + random.hex(16), ownerEmail: creator, documents: space.documents, account: account)
        teams[teamIndex].links.append(link)
        return Event(
            id: eventID(), occurredAt: date(clock), teamID: team.team.id,
            payload: .spaceLinkCreated(
                SpaceLinkCreated(
                    spaceLinkID: link.id, creatorEmail: creator, space: space.space, account: account,
                    internalURL: configuration.docSendBaseURL + "/space_links/" + link.id,
                    createdAt: date(clock - Int64(random.below(1000))))))
    }

    // MARK: - Helpers

    private mutating func makeTeamState(_ team: Team) -> TeamState {
        let base = configuration.docSendBaseURL
        let accounts = team.accounts.map { account in
            AccountInfo(
                id: "acc_" + random.hex(12), name: account.name, salesforceAccountID: account.salesforceAccountID)
        }
        let documents = (team.documentNames.isEmpty ? ["Document.pdf"] : team.documentNames).map { name in
            let id = "doc_" + random.hex(12)
            return DocumentInfo(id: id, name: name, url: base + "/documents/" + id)
        }
        var spaces: [(space: SpaceInfo, documents: [DocumentInfo])] = []
        for name in team.spaceNames.isEmpty ? ["Space"] : team.spaceNames {
            let id = "spc_" + random.hex(12)
            var contents: [DocumentInfo] = []
            for _ in 0..<(2 + random.below(3)) {
                contents.append(documents[random.below(documents.count)])
            }
            spaces.append((SpaceInfo(id: id, name: name, url: base + "/spaces/" + id), contents))
        }
        var state = TeamState(
            team: team, accounts: accounts, documents: documents, spaces: spaces, links: [], visitors: [])
        // Links that existed before the stream starts, so that visits can begin at once.
        let owner = team.memberEmails.first ?? "owner@docsend.example"
        for index in 0..<6 {
            let account = randomAccount(state)
            state.links.append(
                LinkState(
                    id: "lnk_" + random.hex(16),
                    ownerEmail: team.memberEmails.isEmpty ? owner : team.memberEmails[index % team.memberEmails.count],
                    documents: [documents[index % documents.count]], account: account))
        }
        return state
    }

    private mutating func randomAccount(_ team: TeamState) -> AccountInfo? {
        guard !team.accounts.isEmpty, !random.chance(configuration.noAccountRatio) else { return nil }
        return team.accounts[random.below(team.accounts.count)]
    }

    private mutating func pickTeamIndex() -> Int {
        let total = teams.reduce(0) { $0 + Swift.max(0, $1.team.weight) }
        guard total > 0 else { return random.below(teams.count) }
        var draw = random.unit() * total
        for (index, team) in teams.enumerated() {
            draw -= Swift.max(0, team.team.weight)
            if draw < 0 { return index }
        }
        return teams.count - 1
    }

    private mutating func eventID() -> String { "evt_" + random.hex(24) }

    private func date(_ milliseconds: Int64) -> Date {
        // Whole seconds plus milliseconds, the way the RFC 3339 parser builds a Date, so round trips are exact.
        let (seconds, remainder) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        let (wholeSeconds, fraction) = remainder < 0 ? (seconds - 1, remainder + 1000) : (seconds, remainder)
        return Date(timeIntervalSince1970: Double(wholeSeconds) + Double(fraction * 1_000_000) / 1e9)
    }

    private mutating func randomPersonName() -> (first: String, last: String, display: String) {
        let first = random.pick(Self.firstNames) ?? "Sam"
        let last = random.pick(Self.lastNames) ?? "Doe"
        return (first, last, first + " " + last)
    }

    private func nameFromEmail(_ email: String) -> String {
        let local = email.split(separator: "@").first.map(String.init) ?? email
        return local.split(separator: ".").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
    }

    private mutating func varyCase(_ email: String) -> String {
        random.chance(0.5) ? email.uppercased() : email.prefix(1).uppercased() + email.dropFirst()
    }

    private static let unmatchedDomains = [
        "gmail.example", "outlook.example", "prospect.example", "startup.example", "bigcorp.example",
    ]
    private static let firstNames = [
        "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sofia", "Elijah", "Chloé", "Mateo", "Aiko", "Lucas",
        "Zoé", "Arjun", "Ingrid", "Kwame",
    ]
    private static let lastNames = [
        "Martin", "Garcia", "Nguyen", "Smith", "Müller", "Rossi", "Kowalski", "Okafor", "Tanaka", "Dubois",
        "Johansson", "Silva", "Patel", "O'Brien",
    ]
}
