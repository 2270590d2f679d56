import Admin
import Foundation
import HTTP
import Store
import SyncCore
import Testing
import Workers

/// The `deleted_tasks` setting (what a later write does with a Task a rep deleted in Salesforce) through the admin
/// API and the settings page: validated per field, saved, audited, shown.
@Suite("Admin deleted_tasks setting")
struct DeletedTasksSettingTests {
    @Test(arguments: Backend.available)
    func theAPISetsItPerFieldAndAuditsIt(_ backend: Backend) async throws {
        try await withAdmin(backend) { admin in
            let token = admin.token("team_a")
            func patch(_ json: String) async throws -> AdminHarness.Reply {
                try await admin.request(.patch, "/api/v1/teams/team_a/settings", token: token, body: Data(json.utf8))
            }
            try await admin.connect("team_a")
            let current = try await admin.request(.get, "/api/v1/teams/team_a/settings", token: token)
            #expect(current.json["deleted_tasks"] as? String == "recreate", "\(current.text)")
            for invalid in [#"{"deleted_tasks": "half"}"#, #"{"deleted_tasks": true}"#] {
                let refused = try await patch(invalid)
                #expect(refused.status == 422)
                #expect((refused.json["fields"] as? [[String: Any]])?.first?["field"] as? String == "deleted_tasks")
            }
            #expect(try await admin.store.teamSettings(teamID: "team_a") == nil, "nothing saved")
            let saved = try await patch(#"{"deleted_tasks": "leave"}"#)
            #expect(saved.status == 200, "\(saved.text)")
            #expect(saved.json["deleted_tasks"] as? String == "leave")
            let stored = try JSONDecoder().decode(
                TeamSettings.self, from: try #require(try await admin.store.teamSettings(teamID: "team_a")).json)
            #expect(stored.deletedTasks == .leave)
            let audit = try #require(try await admin.store.auditEntries(teamID: "team_a", limit: 1).first)
            #expect(audit.action == "settings.update")
            let details = String(decoding: audit.details, as: UTF8.self)
            #expect(details.contains("deleted_tasks") && details.contains("leave"), "\(details)")
        }
    }

    @Test
    func thePageShowsASelectAndSavesTheChoice() async throws {
        try await withAdmin { admin in
            let session = try await admin.connect("team_a")
            let shown = try await SettingsPageTests.get(admin, "/teams/team_a", cookie: session.cookie).text
            #expect(shown.contains(#"<select name="deleted_tasks" id="f-deleted_tasks""#), "\(shown)")
            #expect(shown.contains(#"<option value="recreate" selected>"#))
            try HTMLChecks.everyControlIsLabelled(shown)

            let saved = try await SettingsPageTests.post(
                admin, "/teams/team_a/settings", cookie: session.cookie,
                "csrf_token=\(session.csrf)&settings_form=1&sync_visits=on&deleted_tasks=leave")
            #expect(saved.status == 303)
            let settings = try await admin.service.settings(teamID: "team_a", by: .api(team: "team_a"))
            #expect(settings.deletedTasks == .leave)
            let after = try await SettingsPageTests.get(admin, "/teams/team_a", cookie: session.cookie).text
            #expect(after.contains(#"<option value="leave" selected>"#))
        }
    }
}
