import Foundation
import Testing

@testable import SyncCore

@Suite("Encoding events")
struct EventEncodingTests {
    static let sample = Event(
        id: "evt_\"quoted\"/ünï",
        occurredAt: Date(timeIntervalSince1970: 1_795_514_400.25),
        teamID: "team_demo",
        payload: .linkCreated(
            LinkCreated(
                linkID: "lnk_1", linkName: "Line\nbreak \u{1} and \u{2028}", creatorEmail: "sam@docsend-demo.example",
                document: DocumentInfo(id: "doc_1", name: "Deck", url: "https://docsend.com/documents/doc_1"),
                account: nil, internalURL: "https://docsend.com/links/lnk_1",
                externalURL: "https://docsend.com/view/abc", createdAt: Date(timeIntervalSince1970: 1_795_514_399))))

    @Test func roundTrips() throws {
        let decoded = try Event.decode(from: Self.sample.encoded())
        #expect(decoded == Self.sample)
    }

    @Test func isStableSnakeCaseWithUTCTimestamps() throws {
        let text = String(decoding: Self.sample.encoded(), as: UTF8.self)
        #expect(text.hasPrefix(#"{"data":{"created_at":"2026-11-24T09:59:59Z","creator_email":"#))
        #expect(text.contains(#""occurred_at":"2026-11-24T10:00:00.250Z""#))
        #expect(text.contains(#""id":"evt_\"quoted\"/ünï""#))
        #expect(text.contains(#""link_name":"Line\nbreak \u0001 and \u2028""#))
        #expect(text.contains(#""version":1,"#) || text.hasSuffix(#""version":1}"#))
        #expect(!text.contains("account"))  // nil optionals are omitted
        #expect(Self.sample.encoded() == Self.sample.encoded())
        // Foundation reads it as the same JSON.
        let object = try #require(try JSONSerialization.jsonObject(with: Self.sample.encoded()) as? [String: Any])
        #expect(object["type"] as? String == "link.created")
    }

    @Test func offsetsAreNormalizedToUTC() throws {
        var object = validVisitStarted()
        object["occurred_at"] = "2026-11-24T12:00:00.5+02:00"
        let event = try Event.decode(from: body(object))
        let text = String(decoding: event.encoded(), as: UTF8.self)
        #expect(text.contains(#""occurred_at":"2026-11-24T10:00:00.500Z""#))
    }

    @Test func formatsTimestamps() {
        #expect(RFC3339.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_795_514_400.123456)) == "2026-11-24T10:00:00.123456Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_795_514_400.9999999)) == "2026-11-24T10:00:01Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59Z")
        for seconds in stride(from: -86_400.0 * 800, to: 86_400.0 * 40_000, by: 86_400.0 * 7.3) {
            let date = Date(timeIntervalSince1970: seconds.rounded())
            #expect(RFC3339.parse(RFC3339.format(date)) == date)
        }
    }

    @Test func messagePropertiesFollowTheContract() {
        let properties = Self.sample.messageProperties
        #expect(properties.contentType == "application/json")
        #expect(properties.deliveryMode == 2)
        #expect(properties.messageID == Self.sample.id)
        #expect(properties.type == "link.created")
        #expect(properties.timestampSeconds == 1_795_514_400)
        #expect(properties.timestamp == Date(timeIntervalSince1970: 1_795_514_400))
        #expect(Self.sample.routingKey == "link.created")
        #expect(
            EventType.allCases.map(\.routingKey) == [
                "visit.started", "visit.updated", "link.created", "space_link.created",
            ])
    }

    @Test func validateCatchesEventsBuiltInvalid() {
        var event = Self.sample
        #expect(throws: Never.self) { try event.validate() }
        event.teamID = ""
        #expect(throws: ContractViolation.self) { try event.validate() }
    }
}

@Suite("JSON Lines")
struct JSONLinesTests {
    @Test func decodesEachLineAndReportsBadOnesByNumber() throws {
        var simulator = ActivitySimulator(seed: 3)
        let events = simulator.events(count: 3)
        var document = events.jsonLines()
        document.append(Data("\n{\"id\": 1}\r\n".utf8))
        document.append(events[0].encoded())
        let lines = Event.decodeJSONLines(document)
        #expect(lines.map(\.lineNumber) == [1, 2, 3, 5, 6])
        #expect(try lines.prefix(3).map { try $0.result.get() } == events)
        #expect(
            lines[3].result
                == .failure(
                    ContractViolation(kind: .wrongType, path: "id", reason: "expected a string, found a number")))
        #expect(try lines[4].result.get() == events[0])
    }

    @Test func payloadsExposeTheirVisitAndLink() throws {
        let event = try Event.decode(from: body(validVisitStarted()))
        #expect(event.payload.visitID == "vis_1")
        #expect(event.payload.linkID == "lnk_1")
        let update = try Event.decode(from: body(validVisitUpdated()))
        #expect(update.payload.visitID == "vis_1")
        #expect(update.payload.linkID == nil)
    }
}
