import Foundation
import HTTP
import JSON
import Logging

extension SalesforceClient {
    // MARK: Query

    /// Runs `soql` and returns every record, following `nextRecordsUrl` until `done`.
    ///
    /// `batchSize` (200…2000) is sent as `Sforce-Query-Options`, a hint Salesforce may ignore.
    public func query<Record: Decodable & Sendable>(
        _ soql: SOQL, as type: Record.Type = Record.self, batchSize: Int? = nil, logger: Logger? = nil
    ) async throws -> [Record] {
        var page = try await queryPage(soql, as: type, batchSize: batchSize, logger: logger)
        var records = page.records
        while !page.done {
            guard let next = page.nextRecordsUrl else {
                throw SalesforceError.invalidResponse("a query page is not done but has no nextRecordsUrl", httpStatus: 200)
            }
            page = try await queryMore(next, as: type, logger: logger)
            records += page.records
        }
        return records
    }

    /// Runs `soql` and returns every record as a dynamic ``SObjectRecord``.
    public func query(_ soql: SOQL, batchSize: Int? = nil, logger: Logger? = nil) async throws -> [SObjectRecord] {
        try await query(soql, as: SObjectRecord.self, batchSize: batchSize, logger: logger)
    }

    /// The first page of `soql`'s results (up to 2,000 records), for callers that stream.
    public func queryPage<Record: Decodable & Sendable>(
        _ soql: SOQL, as type: Record.Type = Record.self, batchSize: Int? = nil, logger: Logger? = nil
    ) async throws -> QueryPage<Record> {
        let text = try soql.render()
        var headers: HTTPHeaders = [:]
        if let batchSize { headers["Sforce-Query-Options"] = "batchSize=\(min(2000, max(200, batchSize)))" }
        let response = try await performExpectingSuccess(
            .get, path: versionPath + "/query?q=" + percentEncodeQueryValue(text), headers: headers,
            operation: .init(name: "query", sobject: soql.object), logger: logger)
        return try decode(QueryPage<Record>.self, response)
    }

    /// The next page at `nextRecordsUrl` (a path from the previous page).
    public func queryMore<Record: Decodable & Sendable>(
        _ nextRecordsUrl: String, as type: Record.Type = Record.self, logger: Logger? = nil
    ) async throws -> QueryPage<Record> {
        // The locator is a path on this instance; anything else (a host, a scheme) is refused rather than
        // followed with our token.
        guard nextRecordsUrl.hasPrefix("/services/data/"), !nextRecordsUrl.contains("://") else {
            throw SalesforceError.invalidResponse("nextRecordsUrl is not a REST path", httpStatus: nil)
        }
        let response = try await performExpectingSuccess(
            .get, path: nextRecordsUrl, operation: .init(name: "queryMore"), logger: logger)
        return try decode(QueryPage<Record>.self, response)
    }

    // MARK: sObject rows

    /// Creates a `type` record from `fields` (any `Encodable` object: a struct, `[String: JSONValue]`, …)
    /// and returns its id.
    public func create(
        _ type: String, fields: some Encodable & Sendable, headers: HTTPHeaders = [:], logger: Logger? = nil
    ) async throws -> String {
        let path = versionPath + "/sobjects/" + (try Self.objectName(type))
        let response = try await performExpectingSuccess(
            .post, path: path, body: try encode(fields), headers: headers,
            operation: .init(name: "create", sobject: type), logger: logger)
        let result = try decode(SaveResult.self, response)
        guard result.success, let id = result.id else {
            throw result.errors.first
                ?? SalesforceError.invalidResponse("create answered without an id", httpStatus: response.status)
        }
        return id
    }

    /// Reads record `id` of `type`, optionally only `fields`.
    public func get<Record: Decodable & Sendable>(
        _ type: String, id: String, fields: [String]? = nil, as recordType: Record.Type = Record.self,
        logger: Logger? = nil
    ) async throws -> Record {
        var path = versionPath + "/sobjects/" + (try Self.objectName(type)) + "/" + percentEncodePathSegment(id)
        if let fields {
            let names = try fields.map { name throws(SalesforceError) in try SOQL.identifier(name) }
            path += "?fields=" + percentEncodeQueryValue(names.joined(separator: ","))
        }
        let response = try await performExpectingSuccess(
            .get, path: path, operation: .init(name: "get", sobject: type), logger: logger)
        return try decode(Record.self, response)
    }

    /// Reads record `id` of `type` as a dynamic record.
    public func get(_ type: String, id: String, fields: [String]? = nil, logger: Logger? = nil) async throws
        -> SObjectRecord
    {
        try await get(type, id: id, fields: fields, as: SObjectRecord.self, logger: logger)
    }

    /// Updates record `id` of `type` with `fields` (`PATCH`, 204).
    public func update(
        _ type: String, id: String, fields: some Encodable & Sendable, headers: HTTPHeaders = [:],
        logger: Logger? = nil
    ) async throws {
        let path = versionPath + "/sobjects/" + (try Self.objectName(type)) + "/" + percentEncodePathSegment(id)
        _ = try await performExpectingSuccess(
            .patch, path: path, body: try encode(fields), headers: headers,
            operation: .init(name: "update", sobject: type), logger: logger)
    }

    /// Deletes record `id` of `type` (204).
    public func delete(_ type: String, id: String, logger: Logger? = nil) async throws {
        let path = versionPath + "/sobjects/" + (try Self.objectName(type)) + "/" + percentEncodePathSegment(id)
        _ = try await performExpectingSuccess(
            .delete, path: path, operation: .init(name: "delete", sobject: type), logger: logger)
    }

    /// Creates or updates the `type` record whose `externalIDField` equals `value`
    /// (`PATCH /sobjects/{type}/{field}/{value}`).
    ///
    /// 201 → ``UpsertResult/created(id:)``; 200 or 204 → ``UpsertResult/updated(id:)``; 300 (several
    /// records match) throws ``SalesforceError/Code/multipleMatches``, classified permanent.
    public func upsert(
        _ type: String, externalIDField: String, value: String, fields: some Encodable & Sendable,
        headers: HTTPHeaders = [:], logger: Logger? = nil
    ) async throws -> UpsertResult {
        let path =
            versionPath + "/sobjects/" + (try Self.objectName(type)) + "/"
            + (try Self.objectName(externalIDField)) + "/" + percentEncodePathSegment(value)
        let response = try await perform(
            .patch, path: path, body: try encode(fields), headers: headers,
            operation: .init(name: "upsert", sobject: type), logger: logger)
        switch response.status {
        case 201:
            let result = try decode(SaveResult.self, response)
            guard let id = result.id else {
                throw SalesforceError.invalidResponse("upsert created a record without an id", httpStatus: 201)
            }
            return .created(id: id)
        case 200:
            let result = try? JSONDecoder().decode(SaveResult.self, from: response.body)
            if result?.created == true, let id = result?.id { return .created(id: id) }
            return .updated(id: result?.id)
        case 204:
            return .updated(id: nil)
        case 300:
            let matches = (try? JSONDecoder().decode([String].self, from: response.body))?.count
            throw SalesforceError(
                code: .multipleMatches,
                message: "the external ID matches \(matches.map(String.init) ?? "several") records",
                fields: [externalIDField], httpStatus: 300, classification: .permanent)
        default:
            throw SalesforceError.first(status: response.status, data: response.body)
        }
    }

    // MARK: Metadata and limits

    /// `GET /sobjects/{type}/describe`: fields with type, length, custom, updateable and picklist values.
    public func describe(_ type: String, logger: Logger? = nil) async throws -> SObjectDescription {
        let path = versionPath + "/sobjects/" + (try Self.objectName(type)) + "/describe"
        let response = try await performExpectingSuccess(
            .get, path: path, operation: .init(name: "describe", sobject: type), logger: logger)
        return try decode(SObjectDescription.self, response)
    }

    /// `GET /limits`, keyed by limit name (`DailyApiRequests`, …).
    public func limits(logger: Logger? = nil) async throws -> [String: OrgLimit] {
        let response = try await performExpectingSuccess(
            .get, path: versionPath + "/limits", operation: .init(name: "limits"), logger: logger)
        // Some entries carry more than Max/Remaining; entries without them are skipped rather than failing.
        let all = try decode([String: JSONValue].self, response)
        var limits: [String: OrgLimit] = [:]
        for (name, value) in all {
            if let max = value["Max"]?.numberValue, let remaining = value["Remaining"]?.numberValue {
                limits[name] = OrgLimit(max: Int(max), remaining: Int(remaining))
            }
        }
        return limits
    }

    // MARK: Composite

    /// The most subrequests one composite request may carry.
    public static let maxCompositeSubrequests = 25
    /// The most records one sObject Collections request may carry.
    public static let maxCollectionRecords = 200

    /// `POST /composite`: up to 25 subrequests in order, one API call. Later subrequests may reference
    /// earlier results as `@{referenceId.field}`. With `allOrNone`, any failure rolls everything back.
    ///
    /// Returns every subresponse (the HTTP status is always 200); check each one's
    /// ``CompositeSubresponse/isSuccess`` and ``CompositeSubresponse/errors``.
    public func composite(
        _ subrequests: [CompositeSubrequest], allOrNone: Bool, collateSubrequests: Bool = false,
        logger: Logger? = nil
    ) async throws -> [CompositeSubresponse] {
        guard !subrequests.isEmpty, subrequests.count <= Self.maxCompositeSubrequests else {
            throw SalesforceError.invalidArgument("composite takes 1…25 subrequests")
        }
        var seen: Set<String> = []
        for subrequest in subrequests {
            guard (try? SOQL.identifier(subrequest.referenceId, allowDots: false)) != nil,
                seen.insert(subrequest.referenceId).inserted
            else {
                throw SalesforceError.invalidArgument("composite referenceIds must be unique identifiers")
            }
        }
        struct Body: Encodable {
            var allOrNone: Bool
            var collateSubrequests: Bool
            var compositeRequest: [CompositeSubrequest]
        }
        let completed = subrequests.map { subrequest in
            var subrequest = subrequest
            if !subrequest.url.hasPrefix("/services/") { subrequest.url = versionPath + subrequest.url }
            return subrequest
        }
        let response = try await performExpectingSuccess(
            .post, path: versionPath + "/composite",
            body: try encode(
                Body(allOrNone: allOrNone, collateSubrequests: collateSubrequests, compositeRequest: completed)),
            operation: .init(name: "composite"), logger: logger)
        struct Reply: Decodable { var compositeResponse: [CompositeSubresponse] }
        return try decode(Reply.self, response).compositeResponse
    }

    // MARK: Helpers

    static func objectName(_ name: String) throws(SalesforceError) -> String {
        try SOQL.identifier(name, allowDots: false)
    }

    func encode(_ value: some Encodable) throws -> Data {
        do {
            return try JSONEncoder().encode(value)
        } catch {
            throw SalesforceError.invalidArgument("the request body could not be encoded as JSON")
        }
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: HTTPResponse) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: response.body)
        } catch {
            throw SalesforceError.invalidResponse(
                "the response is not the documented JSON for \(T.self)", httpStatus: response.status)
        }
    }
}
