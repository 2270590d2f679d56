import AMQP
import Fleet
import Foundation
import SyncCore

/// Messages the workers send each other through the broker. They are internal (not part of the public event
/// contract): their AMQP `type` says which one a message is, and their bodies are small JSON objects.
///
/// | `type` | sent by | to | meaning |
/// |---|---|---|---|
/// | `docsend-sync.visit.resync` | visit worker | `<prefix>.visits.resync.<interval>` (back to visits) | re-sync tick `sequence` of a visit |
/// | `docsend-sync.lead.request` | visit worker | `<prefix>.leads` | create (or find) the Lead for an unmatched visitor |
/// | `docsend-sync.visit.lead-ready` | lead worker | `<prefix>.visits` | the Lead exists: write the visit's Task on it |
/// | `docsend-sync.link.refresh` | link worker | `<prefix>.links.refresh.<interval>` (back to links) | update a link Task's visitors |
enum InternalMessage {
    static let visitResyncType = "docsend-sync.visit.resync"
    static let leadRequestType = "docsend-sync.lead.request"
    static let leadReadyType = "docsend-sync.visit.lead-ready"
    static let linkRefreshType = "docsend-sync.link.refresh"

    /// Every internal type, for telling them apart from contract events.
    static let types: Set<String> = [visitResyncType, leadRequestType, leadReadyType, linkRefreshType]

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static let decoder = JSONDecoder()

    /// A persistent message of `type` with `body` as JSON, keyed `messageID` (for tracing duplicates).
    static func message<Body: Encodable>(
        _ body: Body, type: String, exchange: String, routingKey: String, messageID: String
    ) throws -> AMQPMessage {
        AMQPMessage(
            exchange: exchange, routingKey: routingKey, body: try encoder.encode(body),
            properties: AMQPProperties(
                contentType: "application/json", persistent: true, messageID: messageID, timestamp: Date(),
                type: type, appID: "docsend-sync"))
    }

    static func decode<Body: Decodable>(_ type: Body.Type, from body: Data) throws(WorkFailure) -> Body {
        do {
            return try decoder.decode(Body.self, from: body)
        } catch {
            throw WorkFailure.badMessage(code: "invalid_internal_message", "not a valid \(Body.self): \(error)")
        }
    }
}

/// Re-sync tick `sequence` of a visit (``VisitSyncState/pendingTick``).
struct VisitResyncTick: Codable, Sendable, Equatable {
    var teamID: String
    var visitID: String
    var sequence: Int

    enum CodingKeys: String, CodingKey {
        case teamID = "team_id", visitID = "visit_id", sequence
    }
}

/// A request to find or create the Lead of an unmatched visitor, then put the visit's Task on it. It carries
/// what the Lead is made from (``LeadDraft/make(visitor:accountName:)``), so the lead worker applies the same rules.
struct LeadRequest: Codable, Sendable, Equatable {
    var teamID: String
    var visitID: String
    var visitorEmail: String
    var visitorName: String?
    var accountName: String?
    var ownerID: String?

    enum CodingKeys: String, CodingKey {
        case teamID = "team_id", visitID = "visit_id", visitorEmail = "visitor_email", visitorName = "visitor_name"
        case accountName = "account_name", ownerID = "owner_id"
    }

    var visitor: VisitorInfo { VisitorInfo(email: visitorEmail, name: visitorName) }
}

/// The Lead (or, when someone created one meanwhile, the Contact) an unmatched visitor now has.
struct LeadReady: Codable, Sendable, Equatable {
    var teamID: String
    var visitID: String
    var personID: String
    var personKind: SalesforcePerson.Kind

    enum CodingKeys: String, CodingKey {
        case teamID = "team_id", visitID = "visit_id", personID = "person_id", personKind = "person_kind"
    }
}

/// Time to write the visitors gathered for a link onto its Task.
struct LinkVisitorRefresh: Codable, Sendable, Equatable {
    var teamID: String
    var linkID: String
    /// Which scheduled refresh this is (``StoredLink/scheduledRefresh``).
    var token: String

    enum CodingKeys: String, CodingKey {
        case teamID = "team_id", linkID = "link_id", token
    }
}
