import Admin
import Foundation
import HTTP
import Logging
import Store
import Testing
import Workers

@Suite("Admin settings, links, activity, parking, audit")
struct SettingsAndDataTests {
    @Test(arguments: Backend.available)
    func settingsAreValidatedPerFieldSavedAndAudited(_ backend: Backend) async throws {
        try await withAdmin(backend) { admin in
            let token = admin.token("team_a")
            let path = "/api/v1/teams/team_a/settings"
            func patch(_ json: String) async throws -> AdminHarness.Reply {
                try await admin.request(.patch, path, token: token, body: Data(json.utf8))
            }
            // A mapping needs the org: not connected yet.
            let early = try await patch(#"{"field_mapping": {"visit_duration": "DocSend_Duration__c"}}"#)
            #expect(early.status == 409)
            #expect(early.errorCode == "not_connected")

            try await admin.connect("team_a")
            // Shape problems, per field.
            let shape = try await patch(#"{"sync_visits": "yes", "colour": 1, "field_mapping": {"nope": "X__c"}}"#)
            #expect(shape.status == 422)
            let shapeFields = (shape.json["fields"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
            #expect(Set(shapeFields) == ["sync_visits", "colour", "field_mapping.nope"])
            // A missing field and a field of the wrong type, per field.
            let wrong = try await patch(
                #"{"field_mapping": {"visit_duration": "Missing__c", "percent_viewed": "DocSend_Visit_Id__c"}}"#)
            #expect(wrong.status == 422)
            let problems = (wrong.json["fields"] as? [[String: Any]] ?? [])
            let byField = Dictionary(uniqueKeysWithValues: problems.map { ($0["field"] as? String ?? "", $0["message"] as? String ?? "") })
            #expect(byField["field_mapping.visit_duration"]?.contains("no field") == true)
            #expect(byField["field_mapping.percent_viewed"]?.contains("string field") == true)
            #expect(try await admin.store.teamSettings(teamID: "team_a") == nil)

            // The time zone: a string, and an IANA name; refused per field, nothing saved; a valid one is saved.
            let badType = try await patch(#"{"time_zone": 5}"#)
            #expect(badType.status == 422)
            #expect((badType.json["fields"] as? [[String: Any]])?.first?["field"] as? String == "time_zone")
            let unknown = try await patch(#"{"time_zone": "Pacific/Nowhere"}"#)
            #expect(unknown.status == 422)
            #expect((unknown.json["fields"] as? [[String: Any]])?.first?["field"] as? String == "time_zone")
            #expect(try await admin.store.teamSettings(teamID: "team_a") == nil)
            let zoned = try await patch(#"{"time_zone": "America/Los_Angeles"}"#)
            #expect(zoned.status == 200, "\(zoned.text)")
            #expect(zoned.json["time_zone"] as? String == "America/Los_Angeles")

            // A valid change: saved, visible to the workers' administration (what `team show` prints).
            let valid = try await patch(#"{"sync_visits": false, "field_mapping": {"visit_duration": "DocSend_Duration__c"}}"#)
            #expect(valid.status == 200, "\(valid.text)")
            let administration = TeamAdministration(
                store: admin.store, app: AdminHarness.app(admin.sandbox), http: admin.http, logger: AdminHarness.logger)
            let settings = try await administration.settings(teamID: "team_a")
            #expect(settings.syncVisits == false)
            #expect(settings.fieldMapping[.visitDuration] == "DocSend_Duration__c")
            let read = try await admin.request(.get, path, token: token)
            #expect((read.json["field_mapping"] as? [String: String])?["visit_duration"] == "DocSend_Duration__c")

            // Unmapping with null.
            #expect(try await patch(#"{"field_mapping": {"visit_duration": null}}"#).status == 200)
            #expect(try await administration.settings(teamID: "team_a").fieldMapping[.visitDuration] == nil)

            let audit = try await admin.request(.get, "/api/v1/teams/team_a/audit", token: token)
            let entries = audit.json["entries"] as? [[String: Any]] ?? []
            #expect(
                entries.compactMap { $0["action"] as? String }
                    == ["settings.update", "settings.update", "settings.update", "connection.connect"])
            let zoneChange = try #require((entries.dropFirst(2).first?["details"] as? [String: Any])?["changed"] as? [String: Any])
            #expect(zoneChange.keys.sorted() == ["time_zone"])
            let latest = try #require(entries.first?["details"] as? [String: Any])
            let changed = try #require(latest["changed"] as? [String: Any])
            #expect(changed.keys.sorted() == ["field_mapping.visit_duration"])
            #expect(entries.first?["actor"] as? String == "api:team_a")
            // Refused changes are not recorded.
            #expect(entries.count == 4)

            let fields = try await admin.request(.get, "/api/v1/teams/team_a/task-fields", token: token)
            #expect(((fields.json["fields"] as? [[String: Any]]) ?? []).contains { $0["name"] as? String == "DocSend_Duration__c" })
        }
    }

    @Test
    func accountLinksSearchActivityAndParking() async throws {
        try await withAdmin { admin in
            let token = admin.token("team_a")
            try await admin.connect("team_a")
            // Search, with hostile text escaped (no error, no match).
            let found = try await admin.request(.get, "/api/v1/teams/team_a/accounts?name=acme", token: token)
            #expect(found.status == 200, "\(found.text)")
            let accounts = found.json["accounts"] as? [[String: Any]] ?? []
            #expect(accounts.compactMap { $0["name"] as? String }.contains("Acme Corporation"))
            let acme = try #require(accounts.first { $0["name"] as? String == "Acme Corporation" }?["id"] as? String)
            let hostile = try await admin.request(
                .get, "/api/v1/teams/team_a/accounts?name=%27%20OR%20Name%20LIKE%20%27%25", token: token)
            #expect(hostile.status == 200)
            #expect((hostile.json["accounts"] as? [Any])?.isEmpty == true)

            // Links: set (checked), list, delete.
            let set = try await admin.request(
                .put, "/api/v1/teams/team_a/account-links/ds%20acct%2F1", token: token,
                body: Data(#"{"salesforce_account_id": "\#(acme)"}"#.utf8))
            #expect(set.status == 200, "\(set.text)")
            #expect(try await admin.store.accountLink(teamID: "team_a", docSendAccountID: "ds acct/1") == acme)
            let missing = try await admin.request(
                .put, "/api/v1/teams/team_a/account-links/other", token: token,
                body: Data(#"{"salesforce_account_id": "001000000000000AAA"}"#.utf8))
            #expect(missing.status == 422)
            let list = try await admin.request(.get, "/api/v1/teams/team_a/account-links", token: token)
            #expect((list.json["links"] as? [[String: Any]])?.count == 1)
            #expect(try await admin.request(.delete, "/api/v1/teams/team_a/account-links/ds%20acct%2F1", token: token).status == 204)
            #expect(try await admin.request(.delete, "/api/v1/teams/team_a/account-links/ds%20acct%2F1", token: token).status == 404)

            // Activity: the ledger with links into Salesforce.
            _ = try await admin.store.recordLedgerEntry(
                teamID: "team_a", kind: .visit, objectID: "v1", salesforceType: "Task", salesforceID: "00T000000000001AAA")
            let activity = try await admin.request(.get, "/api/v1/teams/team_a/activity?limit=5", token: token)
            let item = try #require((activity.json["activity"] as? [[String: Any]])?.first)
            let instance = try #require(try await admin.store.connection(teamID: "team_a")?.instanceURL)
            #expect(item["record_url"] as? String == instance + "/00T000000000001AAA")
            #expect(try await admin.request(.get, "/api/v1/teams/team_a/activity?limit=x", token: token).status == 400)

            // Parked messages of the team, with reasons, and their replay.
            admin.parking.items.withLock {
                $0["team_a"] = [ParkedItem(
                    messageID: "evt_1", type: "visit.started", failureCode: "salesforce.INVALID_FIELD",
                    failureReason: "No such column", failedAt: "2026-01-01T00:00:00Z", attempts: 1)]
                $0["team_b"] = [ParkedItem(
                    messageID: "evt_2", type: "visit.started", failureCode: "x", failureReason: "y", failedAt: nil, attempts: 1)]
            }
            let parked = try await admin.request(.get, "/api/v1/teams/team_a/parked", token: token)
            #expect((parked.json["parked"] as? [[String: Any]])?.compactMap { $0["message_id"] as? String } == ["evt_1"])
            let replay = try await admin.request(.post, "/api/v1/teams/team_a/parked/replay", token: token)
            #expect(replay.json["replayed"] as? Int == 1)
            #expect(admin.parking.items.withLock { $0["team_b"]?.count } == 1)

            let actions = try await admin.store.auditEntries(teamID: "team_a", limit: 10).map(\.action)
            #expect(actions == ["parking.replay", "account_link.delete", "account_link.set", "connection.connect"])
        }
    }
}
