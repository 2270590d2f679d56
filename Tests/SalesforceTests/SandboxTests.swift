import Foundation
import HTTP
import Logging
import SalesforceSandbox
import Synchronization
import Testing

@testable import Salesforce

// Both modules declare `SalesforceError`: the client's is named through the module.
typealias ClientError = Salesforce.SalesforceError
typealias Demo = SandboxSeed.Demo

func makeClient(
    _ sandbox: SalesforceSandbox, _ http: HTTPClient,
    credentials: SalesforceCredentials = .refreshToken(Demo.refreshToken),
    clientID: String = Demo.clientId, clientSecret: String = Demo.clientSecret,
    timeout: Duration = .seconds(5), maxInFlight: Int = 8, transientRetries: Int = 2,
    rotated: @escaping @Sendable (String) async -> Void = { _ in }
) -> SalesforceClient {
    SalesforceClient(
        configuration: .init(
            loginURL: sandbox.baseURL, clientID: clientID, clientSecret: clientSecret, apiVersion: "v62.0",
            requestTimeout: timeout, maxRequestsInFlight: maxInFlight, transientRetries: transientRetries,
            transientRetryDelay: .milliseconds(10)),
        credentials: credentials, httpClient: http, onRefreshTokenRotated: rotated)
}

/// Asserts that `body` throws the client's error with `code` and `classification`; returns it.
@discardableResult
func expectClientError(
    _ code: ClientError.Code, _ classification: ClientError.Classification, status: Int? = nil,
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async -> ClientError? {
    do {
        try await body()
        Issue.record("expected \(code), nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as ClientError {
        #expect(error.code == code, sourceLocation: sourceLocation)
        #expect(error.classification == classification, sourceLocation: sourceLocation)
        if let status { #expect(error.httpStatus == status, sourceLocation: sourceLocation) }
        return error
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

struct LeadRow: Decodable, Sendable, Equatable {
    var Id: String
    var Email: String?
    var LastName: String
}

@Suite("Client against the sandbox over HTTP", .timeLimit(.minutes(1)))
struct SandboxRouteTests {
    @Test func sObjectRoutesRoundTrip() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http)
            let id = try await client.create(
                "Lead", fields: ["LastName": "Quinn", "Company": "Q Corp", "Email": "quinn@q.example"] as [String: String])
            #expect(await sandbox.field(id, "Company") == "Q Corp")

            let row = try await client.get("Lead", id: id, fields: ["Id", "Email", "LastName"], as: LeadRow.self)
            #expect(row == LeadRow(Id: id, Email: "quinn@q.example", LastName: "Quinn"))

            try await client.update("Lead", id: id, fields: ["Company": "Q Holdings"] as [String: String])
            let dynamic = try await client.get("Lead", id: id)
            #expect(dynamic.type == "Lead")
            #expect(dynamic["Company"]?.stringValue == "Q Holdings")

            let found = try await client.query(
                SOQL.select(["Id", "Email", "LastName"], from: "Lead").where(.equals("Email", .string("quinn@q.example"))),
                as: LeadRow.self)
            #expect(found.map(\.Id) == [id])

            try await client.delete("Lead", id: id)
            #expect(await sandbox.isDeleted(id))
            let gone = await expectClientError(.entityIsDeleted, .permanent, status: 404) {
                _ = try await client.get("Lead", id: id)
            }
            #expect(gone != nil)
            #expect(client.apiUsage?.max == 15000)
            #expect(client.apiUsage?.used == (await sandbox.org.apiUsage().used))
        }
    }

    @Test func upsertByExternalID() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http)
            let fields: [String: String] = ["Subject": "Viewed deck", "Status": "Completed", "DocSend_Link_Id__c": "link-1"]
            let first = try await client.upsert("Task", externalIDField: "DocSend_Visit_Id__c", value: "visit-1", fields: fields)
            guard case .created(let id) = first else {
                Issue.record("expected created, got \(first)")
                return
            }
            let second = try await client.upsert(
                "Task", externalIDField: "DocSend_Visit_Id__c", value: "visit-1",
                fields: ["Subject": "Viewed deck twice"] as [String: String])
            #expect(second == .updated(id: id))
            #expect(await sandbox.field(id, "Subject") == "Viewed deck twice")

            _ = try await client.upsert(
                "Task", externalIDField: "DocSend_Visit_Id__c", value: "visit-2",
                fields: ["Subject": "Other visit", "DocSend_Link_Id__c": "link-1"] as [String: String])
            // DocSend_Link_Id__c is an external id but not unique: two records match.
            await expectClientError(.multipleMatches, .permanent, status: 300) {
                _ = try await client.upsert(
                    "Task", externalIDField: "DocSend_Link_Id__c", value: "link-1", fields: ["Subject": "x"] as [String: String])
            }
        }
    }

    @Test func describeTask() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http)
            let task = try await client.describe("Task")
            #expect(task.name == "Task")
            let visit = try #require(task.field("DocSend_Visit_Id__c"))
            #expect(visit.custom && visit.updateable && visit.type == "string" && visit.length == 255)
            let subject = try #require(task.field("Subject"))
            #expect(!subject.custom && subject.length == 255)
            let priority = try #require(task.field("Priority"))
            #expect(priority.type == "picklist")
            #expect(priority.picklistValues.map(\.value) == ["High", "Normal", "Low"])
            #expect(task.field("TaskSubtype")?.updateable == false)
            await expectClientError(.notFound, .permanent, status: 404) { _ = try await client.describe("NoSuchThing__c") }
        }
    }

    @Test func limitsAndUsageHeader() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http)
            #expect(client.apiUsage == nil)
            let limits = try await client.limits()
            let daily = try #require(limits["DailyApiRequests"])
            #expect(daily.max == 15000)
            let spent = await sandbox.org.apiUsage().used
            #expect(daily.remaining == 15000 - spent)
            #expect(client.apiUsage == APIUsage(used: spent, max: 15000))
        }
    }

    @Test func compositeWithReferencesAndRollback() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http)
            let replies = try await client.composite(
                [
                    .create("Account", referenceId: "acct", fields: ["Name": "Composite Inc"]),
                    .create("Contact", referenceId: "person", fields: ["LastName": "Ref", "AccountId": "@{acct.id}"]),
                    try .query(
                        SOQL.select(["Id", "AccountId"], from: "Contact").where(.equals("LastName", .string("Ref"))),
                        referenceId: "check"),
                ], allOrNone: true)
            #expect(replies.map(\.referenceId) == ["acct", "person", "check"])
            #expect(replies.map(\.httpStatusCode) == [201, 201, 200])
            let accountID = try #require(replies[0].id)
            let contactID = try #require(replies[1].id)
            #expect(await sandbox.field(contactID, "AccountId") == accountID)
            #expect(replies[2].body["records"]?[0]?["AccountId"]?.stringValue == accountID)

            // allOrNone: the second subrequest fails, the first is rolled back.
            let failed = try await client.composite(
                [
                    .create("Account", referenceId: "a2", fields: ["Name": "Rolled Back"]),
                    .create("Lead", referenceId: "l2", fields: ["LastName": "No Company"]),
                ], allOrNone: true)
            #expect(failed.map(\.isSuccess) == [false, false])
            #expect(failed[1].errors.first?.code == .requiredFieldMissing)
            #expect(failed[1].errors.first?.classification == .permanent)
            #expect(failed[0].errors.first?.code.rawValue == "PROCESSING_HALTED")
            #expect(await sandbox.ids("Account", where: "Name", equals: "Rolled Back").isEmpty)
            // One API call per composite request.
            #expect(await sandbox.restRequests(method: "POST", suffix: "/composite") == 2)
        }
    }

    @Test func collectionsCreateAndUpdateInChunks() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http)
            var records = (0..<430).map {
                SObjectRecord(type: "Task", fields: ["Subject": .string("Visit \($0)"), "Status": "Completed"])
            }
            records[215]["Subject"] = .string(String(repeating: "x", count: 256))
            let results = try await client.createRecords(records, allOrNone: false)
            #expect(results.count == 430)
            #expect(results.filter(\.success).count == 429)
            #expect(results[215].success == false)
            #expect(results[215].errors.first?.code == .stringTooLong)
            #expect(results[215].errors.first?.fields == ["Subject"])
            #expect(results[215].errors.first?.classification == .permanent)
            #expect(await sandbox.restRequests(method: "POST", suffix: "/composite/sobjects") == 3)
            #expect(await sandbox.field(try #require(results[429].id), "Subject") == "Visit 429")

            let updates = results.prefix(250).compactMap(\.id).map {
                SObjectRecord(type: "Task", fields: ["Id": .string($0), "Subject": "Updated"])
            }
            let updated = try await client.updateRecords(updates)
            #expect(updated.count == updates.count && updated.allSatisfy(\.success))
            #expect(await sandbox.restRequests(method: "PATCH", suffix: "/composite/sobjects") == 2)
            #expect(await sandbox.field(try #require(updates.last?.id), "Subject") == "Updated")
        }
    }

    @Test func queryFollowsEveryPage() async throws {
        try await withSandbox { sandbox, http in
            try await sandbox.createLeads(650, company: "Paged")
            let client = makeClient(sandbox, http)
            let rows = try await client.query(
                SOQL.select(["Id", "LastName"], from: "Lead").where(.equals("Company", .string("Paged"))),
                as: LeadRow.self, batchSize: 200)
            #expect(rows.count == 650)
            #expect(Set(rows.map(\.Id)).count == 650)
            #expect(Set(rows.map(\.LastName)) == Set((0..<650).map { "Bulk \($0)" }))
            #expect(await sandbox.restRequests(method: "GET", suffix: "-200") == 1)
            #expect(await sandbox.org.requests().filter { $0.path.contains("/query/") }.count == 3)
        }
    }
}

@Suite("Salesforce errors through the client", .timeLimit(.minutes(1)))
struct SandboxErrorTests {
    @Test func validationErrorsArePermanent() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http)
            let missing = await expectClientError(.requiredFieldMissing, .permanent, status: 400) {
                _ = try await client.create("Lead", fields: ["LastName": "Only"] as [String: String])
            }
            #expect(missing?.fields == ["Company"])
            await expectClientError(.stringTooLong, .permanent, status: 400) {
                _ = try await client.create(
                    "Lead", fields: ["LastName": String(repeating: "L", count: 81), "Company": "C"] as [String: String])
            }
            await expectClientError(.invalidField, .permanent, status: 400) {
                _ = try await client.create("Lead", fields: ["LastName": "A", "Company": "C", "Nope__c": "x"] as [String: String])
            }
            await expectClientError(.invalidField, .permanent, status: 400) {
                _ = try await client.query(SOQL.select(["Id", "Nope__c"], from: "Lead"))
            }
            await expectClientError(.malformedID, .permanent) {
                _ = try await client.get("Lead", id: "not-an-id")
            }
            await expectClientError(.cannotUpdateConvertedLead, .permanent, status: 400) {
                try await client.update("Lead", id: Demo.convertedLeadId, fields: ["Company": "New"] as [String: String])
            }
            await expectClientError(.invalidOrNullForRestrictedPicklist, .permanent, status: 400) {
                _ = try await client.create("Task", fields: ["Subject": "s", "Status": "Bogus"] as [String: String])
            }
            await expectClientError(.notFound, .permanent, status: 404) {
                _ = try await client.get("Lead", id: "00Q5g00000Nobdy")
            }
        }
    }

    @Test("transient failures are sent again in place: a 503 maintenance page, UNABLE_TO_LOCK_ROW, a lost connection on a GET; never a rate limit")
    func transientFailuresRetriedInPlace() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http, timeout: .seconds(2))
            let lead = SOQL.select(["Id"], from: "Lead")
            let rest = "/services/data/*"
            func faulted(_ kind: String) async -> Int { await sandbox.org.requests().filter { $0.fault == kind }.count }

            await sandbox.org.setFaults(FaultSettings(rules: [.next(2, .maintenancePage, path: rest)]))
            let leads = try await client.query(lead)
            #expect(!leads.isEmpty)
            #expect(await faulted("maintenance_page") == 2)

            await sandbox.org.setFaults(FaultSettings(rules: [.next(3, .unableToLockRow, path: rest)]))
            await expectClientError(.unableToLockRow, .retryable, status: 400) {
                try await client.update("Lead", id: Demo.carolLeadId, fields: ["Company": "Locked"] as [String: String])
            }
            #expect(await faulted("unable_to_lock_row") == 3, "the first try and two retries, then the error")

            await sandbox.org.setFaults(FaultSettings(rules: [.next(1, .dropConnection, path: rest)]))
            let again = try await client.query(lead)
            #expect(!again.isEmpty)
            #expect(await faulted("drop_connection") == 1, "the GET sent again after its connection was lost")

            await sandbox.org.setFaults(FaultSettings(rules: [.next(1, .requestLimitExceeded, path: rest)]))
            await expectClientError(.requestLimitExceeded, .retryable, status: 403) { _ = try await client.query(lead) }
            #expect(await faulted("request_limit_exceeded") == 1)
        }
    }

    @Test func faultsAreClassifiedAsSalesforceCausesThem() async throws {
        try await withSandbox { sandbox, http in
            // No retry in place here: each fault's own classification is what this test reads.
            let client = makeClient(sandbox, http, timeout: .seconds(3), transientRetries: 0)
            let lead = SOQL.select(["Id"], from: "Lead")
            let rest = "/services/data/*"

            await sandbox.org.addFault(.next(1, .serverError, path: rest))
            await expectClientError(.init("UNKNOWN_EXCEPTION"), .retryable, status: 500) { _ = try await client.query(lead) }

            await sandbox.org.addFault(.next(1, .serviceUnavailable, path: rest))
            await expectClientError(.serverUnavailable, .retryable, status: 503) { _ = try await client.query(lead) }

            await sandbox.org.addFault(.next(1, .unableToLockRow, path: rest))
            await expectClientError(.unableToLockRow, .retryable, status: 400) {
                try await client.update("Lead", id: Demo.carolLeadId, fields: ["Company": "Locked"] as [String: String])
            }

            await sandbox.org.setFaults(FaultSettings(rules: [.next(1, .hang, path: rest)], hangSeconds: 20))
            let started = ContinuousClock.now
            await expectClientError(.timeout, .retryable) { _ = try await client.query(lead) }
            #expect(ContinuousClock.now - started < .seconds(15), "the client's timeout, not the hang, ended the call")

            await sandbox.org.setFaults(FaultSettings(rules: [.next(1, .dropConnection, path: rest)]))
            let dropped = await expectClientError(.connectionLost, .retryable) { _ = try await client.query(lead) }
            #expect(dropped?.httpStatus == nil)
            // With retries in place off, nothing below the client retried it on its own.
            #expect(await sandbox.org.requests().filter { $0.fault == "drop_connection" }.count == 1)

            await sandbox.org.setFaults(FaultSettings())
            await sandbox.org.setAPILimit(max: 100, used: 100)
            await expectClientError(.requestLimitExceeded, .retryable, status: 403) { _ = try await client.query(lead) }
            #expect(client.apiUsage == APIUsage(used: 100, max: 100))

            // After the faults, the same client works again.
            await sandbox.org.setAPILimit(max: 15000, used: 0)
            _ = try await client.query(lead)
            #expect(await sandbox.tokenRequests() == 1)
        }
    }

    @Test func cancellingACallAbortsItsRequest() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http, timeout: .seconds(20))
            _ = try await client.limits()
            await sandbox.org.setFaults(FaultSettings(latency: .init(fixedMs: 5000, path: "/services/data/*")))
            let started = ContinuousClock.now
            let call = Task { try await client.limits() }
            try await Task.sleep(for: .milliseconds(200))
            call.cancel()
            await #expect(throws: CancellationError.self) { _ = try await call.value }
            #expect(ContinuousClock.now - started < .seconds(3))
        }
    }

    @Test func connectionRefusedIsRetryable() async throws {
        var port = 0
        try await withSandbox { sandbox, _ in port = sandbox.port }
        try await withHTTPClient(logger: Logger(label: "sandbox-tests", factory: { _ in SwiftLogNoOpLogHandler() })) { http in
            let client = SalesforceClient(
                configuration: .init(loginURL: "http://127.0.0.1:\(port)", clientID: "c", clientSecret: "s"),
                credentials: .clientCredentials, httpClient: http)
            await expectClientError(.connectFailed, .retryable) { _ = try await client.limits() }
        }
    }
}
