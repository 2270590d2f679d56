/// One visitor shown on a document link's Task.
public struct LinkVisitor: Sendable, Hashable, Codable {
    /// The visitor's email, on one line, as typed (the first spelling seen is kept).
    public var email: String
    /// The visitor's name, when one was given.
    public var name: String?

    /// Creates a visitor.
    public init(email: String, name: String? = nil) {
        self.email = email
        self.name = name
    }

    /// `Ada Lovelace <ada@acme.example>`, or the email alone.
    public var displayText: String {
        guard let name, !name.isEmpty else { return email }
        return "\(name) <\(email)>"
    }
}

/// The visitors a document link's Task lists (design §1 item 2: refreshed when new visitors open the link).
///
/// Visitors are keyed by email, case-insensitively, in the order they were first seen. Visitors without an
/// email cannot be told apart (a redelivered `visit.started` would count twice) and are not listed. The list
/// keeps at most ``maximumCount`` visitors; past that ``isCapped`` is set and the Task says the list is
/// incomplete.
public struct LinkVisitorList: Sendable, Hashable, Codable {
    /// The visitors, first seen first.
    public var visitors: [LinkVisitor]
    /// More distinct visitors came than the list keeps.
    public var isCapped: Bool

    /// How many visitors a list keeps by default.
    public static let maximumCount = 200

    /// A list.
    public init(visitors: [LinkVisitor] = [], isCapped: Bool = false) {
        self.visitors = visitors
        self.isCapped = isCapped
    }

    /// The list after a burst of `visit.started` events of link `linkID`, and whether the Task needs an update.
    ///
    /// Rules: events of other links and visitors without an email are skipped; the burst is taken in
    /// `started_at` order (then visit id) so that the result does not depend on delivery order; a known email
    /// (compared case-insensitively, whitespace trimmed) adds nothing, except a name when the list had none;
    /// new emails are appended until `limit`, after which the list is marked capped. One refresh covers the
    /// whole burst: a worker batches the events it has and writes the Task once, only when `needsUpdate`.
    public func refreshed(with visits: [VisitStarted], linkID: String, limit: Int = maximumCount)
        -> LinkVisitorsRefresh
    {
        var list = self
        var index: [String: Int] = [:]
        for (position, visitor) in list.visitors.enumerated() {
            index[Self.key(visitor.email)] = index[Self.key(visitor.email)] ?? position
        }
        let burst = visits.filter { $0.linkID == linkID }.sorted {
            ($0.startedAt, $0.visitID) < ($1.startedAt, $1.visitID)
        }
        for visit in burst {
            guard let rawEmail = Matching.normalizedEmail(visit.visitor.email) else { continue }
            let email = SalesforceText.singleLine(rawEmail)
            let name = visit.visitor.name.map { SalesforceText.singleLine($0) }.flatMap { $0.isEmpty ? nil : $0 }
            let key = Self.key(email)
            if let position = index[key] {
                if list.visitors[position].name == nil, let name { list.visitors[position].name = name }
                continue
            }
            guard list.visitors.count < limit else {
                list.isCapped = true
                continue
            }
            index[key] = list.visitors.count
            list.visitors.append(LinkVisitor(email: email, name: name))
        }
        return LinkVisitorsRefresh(list: list, needsUpdate: list != self)
    }

    private static func key(_ email: String) -> String { email.lowercased() }
}

/// A refreshed visitors list and whether the link's Task must be updated.
public struct LinkVisitorsRefresh: Sendable, Hashable {
    /// The list to store and render.
    public var list: LinkVisitorList
    /// Whether it differs from the list the Task shows.
    public var needsUpdate: Bool
}
