import Foundation
import JSON

extension Event {
    /// The event's wire form: compact UTF-8 JSON, snake_case keys sorted, timestamps in UTC with `Z`, optional
    /// keys omitted when `nil`. Stable: equal events encode to equal bytes. ``decode(from:)`` reads it back.
    public func encoded() -> Data {
        Data(json.serialized.utf8)
    }

    var json: JSONValue {
        .object([
            "id": .string(id),
            "type": .string(type.rawValue),
            "version": .number(Double(version)),
            "occurred_at": .timestamp(occurredAt),
            "team_id": .string(teamID),
            "data": payload.json,
        ])
    }
}

extension Event.Payload {
    var json: JSONValue {
        switch self {
        case .visitStarted(let visit): visit.json
        case .visitUpdated(let update): update.json
        case .linkCreated(let link): link.json
        case .spaceLinkCreated(let spaceLink): spaceLink.json
        }
    }
}

extension JSONValue {
    static func timestamp(_ date: Date) -> JSONValue { .string(RFC3339.format(date)) }

    /// An object without the `nil` fields.
    static func object(dropping fields: [String: JSONValue?]) -> JSONValue {
        .object(fields.compactMapValues { $0 })
    }
}

extension DocumentInfo {
    var json: JSONValue { .object(["id": .string(id), "name": .string(name), "url": .string(url)]) }
}

extension AccountInfo {
    var json: JSONValue {
        .object(dropping: [
            "id": .string(id), "name": .string(name),
            "salesforce_account_id": salesforceAccountID.map(JSONValue.string),
        ])
    }
}

extension VisitorInfo {
    var json: JSONValue {
        .object(dropping: ["email": email.map(JSONValue.string), "name": name.map(JSONValue.string)])
    }
}

extension SpaceInfo {
    var json: JSONValue { .object(["id": .string(id), "name": .string(name), "url": .string(url)]) }
}

extension VisitStarted {
    var json: JSONValue {
        .object(dropping: [
            "visit_id": .string(visitID),
            "link_id": .string(linkID),
            "link_owner_email": .string(linkOwnerEmail),
            "document": document.json,
            "account": account?.json,
            "visitor": visitor.json,
            "analytics_url": .string(analyticsURL),
            "started_at": .timestamp(startedAt),
        ])
    }
}

extension VisitUpdated {
    var json: JSONValue {
        .object([
            "visit_id": .string(visitID),
            "duration_seconds": .number(Double(durationSeconds)),
            "percent_viewed": .number(percentViewed),
            "last_activity_at": .timestamp(lastActivityAt),
            "ended": .bool(ended),
        ])
    }
}

extension LinkCreated {
    var json: JSONValue {
        .object(dropping: [
            "link_id": .string(linkID),
            "link_name": linkName.map(JSONValue.string),
            "creator_email": .string(creatorEmail),
            "document": document.json,
            "account": account?.json,
            "internal_url": .string(internalURL),
            "external_url": .string(externalURL),
            "created_at": .timestamp(createdAt),
        ])
    }
}

extension SpaceLinkCreated {
    var json: JSONValue {
        .object(dropping: [
            "space_link_id": .string(spaceLinkID),
            "creator_email": .string(creatorEmail),
            "space": space.json,
            "account": account?.json,
            "internal_url": .string(internalURL),
            "created_at": .timestamp(createdAt),
        ])
    }
}
