import Foundation
import HTTP
import SalesforceSandbox
import SyncCore
import Testing

/// The simulator's default teams (both live in the one `activity-demo` org), by id (test arguments read better).
let activitySimulatorTeamIDs = [ActivitySimulator.Team.demo.id, ActivitySimulator.Team.northwind.id]

/// The `activity-demo` seed must hold what the activity simulator's teams expect of their Salesforce org
/// (`ActivitySimulator.Team.demo` and `.northwind`). These tests fail when the two drift apart.
@Suite("activity-demo seed matches the activity simulator")
struct ActivityDemoSeedTests {
    typealias Team = ActivitySimulator.Team
    typealias ActivityDemo = SandboxSeed.ActivityDemo

    func org() async throws -> SandboxOrg { try SandboxOrg(seed: try SandboxSeed.decode(Data(SandboxSeed.activityDemoJSON.utf8))) }

    func live(_ org: SandboxOrg, _ type: String) async -> [SandboxRecord] { await org.records(type).filter { !$0.isDeleted } }

    static func team(_ id: String) throws -> Team {
        try #require([Team.demo, Team.northwind].first { $0.id == id })
    }

    static func same(_ a: String?, _ b: String) -> Bool { a?.caseInsensitiveCompare(b) == .orderedSame }

    @Test func seedDecodesAndKeepsTheDemoCredentials() throws {
        let seed = try SandboxSeed.decode(Data(SandboxSeed.activityDemoJSON.utf8))
        #expect(seed == SandboxSeed.activityDemo)
        #expect(SandboxSeed.builtIn(named: "activity-demo") == seed && SandboxSeed.builtIn(named: "demo") == SandboxSeed.demo)
        #expect(SandboxSeed.builtIn(named: "nope") == nil && SandboxSeed.builtInNames == ["demo", "activity-demo"])
        #expect(seed.orgId.flatMap(SalesforceID.normalize) == ActivityDemo.orgId && ActivityDemo.orgId.count == 18)
        #expect(seed.limits?.dailyApiRequests == ActivityDemo.dailyApiRequests && ActivityDemo.dailyApiRequests == 1_000_000)
        let client = try #require(seed.oauthClients?.first)
        #expect(client.clientId == SandboxSeed.Demo.clientId && client.clientSecret == SandboxSeed.Demo.clientSecret)
        #expect(client.refreshTokens == [SandboxSeed.Demo.refreshToken] && client.redirectURIs?.contains(SandboxSeed.Demo.redirectURI) == true)
        #expect(seed.accessTokens == [AccessTokenSeed(token: SandboxSeed.Demo.accessToken, username: SandboxSeed.Demo.username)])
        #expect(seed.taskStatuses == TaskStatusSeed.standard)
        let fields = Dictionary(uniqueKeysWithValues: (seed.customTaskFields ?? []).map { ($0.name, $0) })
        for key in ["DocSend_Visit_Id__c", "DocSend_Link_Id__c", "DocSend_Space_Link_Id__c"] {
            let f = try #require(fields[key])
            #expect(f.type == .string && f.length == 255 && f.externalId == true && f.unique == true, "\(key)")
        }
        #expect(fields["DocSend_Duration__c"]?.type == .double && fields["DocSend_Percent_Viewed__c"]?.type == .double)
        #expect(fields["DocSend_Document__c"]?.type == .string && fields["DocSend_Document__c"]?.length == 255)
        #expect(fields["DocSend_Analytics_URL__c"]?.type == .url)
    }

    @Test(arguments: activitySimulatorTeamIDs)
    func membersAreActiveUsers(teamID: String) async throws {
        let team = try Self.team(teamID)
        let users = await live(try await org(), "User")
        for email in team.memberEmails {
            let matches = users.filter { Self.same($0["Email"]?.stringValue, email) }
            #expect(matches.count == 1, "\(team.id): \(email) is \(matches.count) Users")
            #expect(matches.allSatisfy { $0["IsActive"]?.boolValue == true }, "\(team.id): \(email) is not active")
            #expect(ActivityDemo.memberUsernames.contains(email), "\(team.id): \(email) missing from ActivityDemo.memberUsernames")
        }
    }

    @Test(arguments: activitySimulatorTeamIDs)
    func knownContactsAndLeadsExistOnce(teamID: String) async throws {
        let team = try Self.team(teamID)
        let o = try await org()
        let contacts = await live(o, "Contact")
        let accounts = await live(o, "Account")
        for email in team.knownContactEmails {
            let matches = contacts.filter { Self.same($0["Email"]?.stringValue, email) }
            #expect(matches.count == 1, "\(team.id): \(email) is \(matches.count) Contacts")
            // On its company's Account (the email's domain is the Account's website's).
            let domain = String(email.split(separator: "@").last ?? "")
            let account = accounts.first { $0.id == matches.first?["AccountId"]?.stringValue }
            #expect(account?["Website"]?.stringValue?.hasSuffix("//" + domain) == true, "\(team.id): \(email) is not on its Account")
            #expect(matches.first?["LastName"]?.stringValue?.isEmpty == false)
        }
        let leads = await live(o, "Lead")
        for email in team.knownLeadEmails {
            let matches = leads.filter { Self.same($0["Email"]?.stringValue, email) && $0["IsConverted"]?.boolValue != true }
            #expect(matches.count == 1, "\(team.id): \(email) is \(matches.count) open Leads")
            #expect(matches.first?["Company"]?.stringValue?.isEmpty == false)
        }
    }

    @Test(arguments: activitySimulatorTeamIDs)
    func accountsAreThereOrNotAsTheSimulatorSays(teamID: String) async throws {
        let team = try Self.team(teamID)
        let accounts = await live(try await org(), "Account")
        for account in team.accounts {
            if let linked = account.salesforceAccountID {
                let id = SalesforceID.normalize(linked)
                #expect(id == linked, "\(team.id): \(account.name)'s salesforceAccountID \(linked) is not an 18-character Salesforce id")
                let record = accounts.first { $0.id == id }
                #expect(record?["Name"]?.stringValue == account.name, "\(team.id): no Account \(linked) named \(account.name)")
            } else {
                let named = accounts.filter { $0["Name"]?.stringValue == account.name }
                let expected = account.isInSalesforce ? 1 : 0
                #expect(named.count == expected, "\(team.id): \(named.count) Accounts named \(account.name), expected \(expected)")
            }
        }
    }

    /// The same checks through the workers' own matching rules (SyncCore's ``Matching``).
    @Test(arguments: activitySimulatorTeamIDs)
    func theMatchingRulesFindEveryRecord(teamID: String) async throws {
        let team = try Self.team(teamID)
        let o = try await org()
        let users = await live(o, "User").map { SalesforceUser(id: $0.id, email: $0["Email"]?.stringValue ?? "", isActive: $0["IsActive"]?.boolValue ?? false) }
        for email in team.memberEmails {
            #expect(Matching.user(forEmail: email.uppercased(), among: users) != nil, "\(team.id): \(email)")
        }
        let people = await live(o, "Contact").map { SalesforcePerson(kind: .contact, id: $0.id, email: $0["Email"]?.stringValue, lastModifiedDate: Date()) }
            + (await live(o, "Lead")).map {
                SalesforcePerson(kind: .lead, id: $0.id, email: $0["Email"]?.stringValue, isConverted: $0["IsConverted"]?.boolValue ?? false, lastModifiedDate: Date())
            }
        for email in team.knownContactEmails { #expect(Matching.person(forEmail: email, among: people)?.kind == .contact, "\(team.id): \(email)") }
        for email in team.knownLeadEmails { #expect(Matching.person(forEmail: email, among: people)?.kind == .lead, "\(team.id): \(email)") }
        let candidates = await live(o, "Account").map { SalesforceAccount(id: $0.id, name: $0["Name"]?.stringValue ?? "", lastModifiedDate: Date()) }
        for account in team.accounts {
            let info = AccountInfo(id: "acc_test", name: account.name, salesforceAccountID: account.salesforceAccountID)
            let resolution = Matching.account(for: info, among: candidates)
            if account.salesforceAccountID != nil || account.isInSalesforce {
                let id = try #require(resolution.accountID, "\(team.id): \(account.name) resolves to \(resolution)")
                #expect(candidates.contains { $0.id == id && $0.name == account.name }, "\(team.id): \(account.name) resolves to \(id)")
            } else {
                #expect(resolution == AccountResolution.none, "\(team.id): \(account.name) resolves to \(resolution)")
            }
        }
    }

    @Test func constantsNameTheSeededAccounts() async throws {
        let accounts = await live(try await org(), "Account")
        let byId = Dictionary(uniqueKeysWithValues: accounts.map { ($0.id, $0["Name"]?.stringValue ?? "") })
        #expect(byId[ActivityDemo.acmeAccountId] == "Acme Corporation" && byId[ActivityDemo.globexAccountId] == "Globex")
        #expect(byId[ActivityDemo.contosoAccountId] == "Contoso" && byId[ActivityDemo.initechAccountId] == "Initech")
        #expect(byId[ActivityDemo.hooliAccountId] == "Hooli" && byId[ActivityDemo.fabrikamAccountId] == "Fabrikam")
        #expect(byId.count == 6)
    }

    /// Over HTTP: the demo token works and a visit Task with every DocSend field upserts, owned by a member.
    @Test func servesAVisitTaskWithTheDocSendFields() async throws {
        try await withSandbox(.activityDemo) { h in
            let q = try json(try await h.query("SELECT Id FROM User WHERE Email = 'sam.seller@docsend-demo.example' AND IsActive = true"))
            let sam = try #require(q["records"]?.arrayValue?.first?["Id"]?.stringValue)
            let contact = try json(try await h.query("SELECT Id, AccountId FROM Contact WHERE Email = 'ada.lovelace@acme.example'"))
            let ada = try #require(contact["records"]?.arrayValue?.first?["Id"]?.stringValue)
            #expect(contact["records"]?.arrayValue?.first?["AccountId"]?.stringValue == ActivityDemo.acmeAccountId)
            let body = #"""
                {"Subject":"DocSend visit: Q4 Pricing Proposal.pdf","OwnerId":"\#(sam)","WhoId":"\#(ada)","Status":"Completed",
                 "DocSend_Duration__c":312.5,"DocSend_Percent_Viewed__c":87,"DocSend_Document__c":"Q4 Pricing Proposal.pdf",
                 "DocSend_Analytics_URL__c":"https://docsend.com/view/analytics/visits/vis_1","DocSend_Link_Id__c":null}
                """#
            let r = try await h.call(.patch, "sobjects/Task/DocSend_Visit_Id__c/vis_1", json: body, token: ActivityDemo.accessToken)
            #expect(r.status == 201, "\(String(decoding: r.body, as: UTF8.self))")
            let task = try #require(await h.org.records("Task").first)
            #expect(task["AccountId"]?.stringValue == ActivityDemo.acmeAccountId && task["OwnerId"]?.stringValue == sam)
            #expect(task["DocSend_Duration__c"] == 312.5 && task["IsClosed"] == true)
            // A second Task on the same link id is refused: the id fields are unique.
            let link = #"{"Subject":"link","DocSend_Link_Id__c":"lnk_1"}"#
            #expect(try await h.call(.post, "sobjects/Task", json: link).status == 201)
            try expectError(try await h.call(.post, "sobjects/Task", json: link), status: 400, code: "DUPLICATE_VALUE")
        }
    }
}
