import Foundation
import HTTP
import JSON
import Logging

extension SalesforceClient {
    // MARK: sObject Collections (one API call per 200 records)

    /// `POST /composite/sobjects`: creates `records` (each with its ``SObjectRecord/type``), 200 a request;
    /// a longer list is sent in consecutive chunks of 200. Returns one ``SaveResult`` per record, in order.
    ///
    /// `allOrNone` applies within each chunk: an earlier chunk stays committed if a later one fails.
    public func createRecords(
        _ records: [SObjectRecord], allOrNone: Bool = false, logger: Logger? = nil
    ) async throws -> [SaveResult] {
        guard records.allSatisfy({ $0.type.map { (try? Self.objectName($0)) != nil } ?? false }) else {
            throw SalesforceError.invalidArgument("every record of a collection needs a valid sObject type")
        }
        return try await collection(.post, records, allOrNone: allOrNone, operation: "createRecords", logger: logger)
    }

    /// `PATCH /composite/sobjects`: updates `records` (each with `Id` and its type), in chunks of 200.
    /// Returns one ``SaveResult`` per record, in order.
    public func updateRecords(
        _ records: [SObjectRecord], allOrNone: Bool = false, logger: Logger? = nil
    ) async throws -> [SaveResult] {
        guard records.allSatisfy({ $0.id != nil && $0.type.map { (try? Self.objectName($0)) != nil } ?? false })
        else {
            throw SalesforceError.invalidArgument("every record to update needs an Id and a valid sObject type")
        }
        return try await collection(.patch, records, allOrNone: allOrNone, operation: "updateRecords", logger: logger)
    }

    /// `PATCH /composite/sobjects`: updates the records of `type` whose ids are `ids` with `records` (field names to
    /// values, the same count and order), 200 a request, a longer list in consecutive chunks. Returns one
    /// ``SaveResult`` per record, in order. An update never creates: a record no longer there fails alone
    /// (`ENTITY_IS_DELETED` once in the recycle bin), where an upsert on an external id would create another.
    ///
    /// With `allOrNone` false each record stands alone. An id should appear once per call.
    public func updateRecords<Fields: Encodable & Sendable>(
        _ type: String, ids: [String], records: [Fields], allOrNone: Bool = false, logger: Logger? = nil
    ) async throws -> [SaveResult] {
        guard ids.count == records.count else {
            throw SalesforceError.invalidArgument("\(ids.count) ids for \(records.count) records to update")
        }
        guard ids.allSatisfy({ !$0.isEmpty }) else {
            throw SalesforceError.invalidArgument("every record to update needs an Id")
        }
        let name = try Self.objectName(type)
        let identified = zip(ids, records).map { TypedRecord(type: name, id: $0, fields: $1) }
        return try await collection(
            .patch, identified, allOrNone: allOrNone, operation: "updateRecords", sobject: type, logger: logger)
    }

    private func collection<Record: Encodable & Sendable>(
        _ method: HTTPMethod, _ records: [Record], path: String = "", allOrNone: Bool, operation: String,
        sobject: String? = nil, logger: Logger?
    ) async throws -> [SaveResult] {
        var results: [SaveResult] = []
        results.reserveCapacity(records.count)
        var start = records.startIndex
        while start < records.endIndex {
            let end = min(start + Self.maxCollectionRecords, records.endIndex)
            let response = try await performExpectingSuccess(
                method, path: versionPath + "/composite/sobjects" + path,
                body: try encode(CollectionBody(allOrNone: allOrNone, records: Array(records[start..<end]))),
                operation: .init(name: operation, sobject: sobject), logger: logger)
            let chunk = try decode([SaveResult].self, response)
            guard chunk.count == end - start else {
                throw SalesforceError.invalidResponse(
                    "a collection answered \(chunk.count) results for \(end - start) records",
                    httpStatus: response.status)
            }
            results += chunk
            start = end
        }
        return results
    }

    /// `PATCH /composite/sobjects/{type}/{externalIDField}`: creates or updates each of `records` (field names to
    /// values, the external-id field among them), matched on its own external-id value; 200 a request, a longer
    /// list in consecutive chunks. Returns one ``SaveResult`` per record, in order, with ``SaveResult/created``.
    ///
    /// With `allOrNone` false each record stands alone: one record's validation error fails that record only.
    /// Records sharing an external-id value in one request all fail (`DUPLICATE_EXTERNAL_ID`).
    public func upsertRecords<Fields: Encodable & Sendable>(
        _ type: String, externalIDField: String, records: [Fields], allOrNone: Bool = false, logger: Logger? = nil
    ) async throws -> [SaveResult] {
        let typed = try records.map { TypedRecord(type: try Self.objectName(type), fields: $0) }
        let path = "/" + (try Self.objectName(type)) + "/" + (try Self.objectName(externalIDField))
        return try await collection(
            .patch, typed, path: path, allOrNone: allOrNone, operation: "upsertRecords", sobject: type, logger: logger)
    }
}

/// The body of a collection request.
private struct CollectionBody<Record: Encodable & Sendable>: Encodable, Sendable {
    var allOrNone: Bool
    var records: [Record]
}

/// A record of a collection request: its fields, with `attributes.type` and, for an update by id, `Id` beside them.
private struct TypedRecord<Fields: Encodable & Sendable>: Encodable, Sendable {
    var type: String
    var id: String? = nil
    var fields: Fields

    func encode(to encoder: any Encoder) throws {
        try fields.encode(to: encoder)
        var container = encoder.container(keyedBy: SObjectRecord.DynamicKey.self)
        try container.encode(["type": type], forKey: SObjectRecord.DynamicKey(stringValue: "attributes"))
        if let id { try container.encode(id, forKey: SObjectRecord.DynamicKey(stringValue: "Id")) }
    }
}
