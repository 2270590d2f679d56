import Foundation
import SyncCore

/// The one wire form of every ``Job``: a name (the AMQP `type`) and a JSON body. Public events are the event
/// contract's JSON (``Event/encoded()`` / ``Event/decode(from:)``); internal jobs are small JSON objects with
/// sorted keys.
public enum JobCoding {
    /// The job's body.
    public static func encode(_ job: Job) throws -> Data {
        switch job {
        case .event(let event): event.encoded()
        case .visitResync(let tick): try encodeInternal(tick)
        case .leadRequest(let request): try encodeInternal(request)
        case .leadReady(let ready): try encodeInternal(ready)
        case .linkRefresh(let refresh): try encodeInternal(refresh)
        }
    }

    /// The job a message of `name` with `body` carries. A message whose name is not an internal job's is read as
    /// a public event (the body says which).
    ///
    /// - Throws: ``WorkFailure`` with a `contract_violation.*` code (an event that breaks the contract) or
    ///   `invalid_internal_message` (an internal job whose body does not decode); either is parked.
    public static func decode(name: String?, body: Data) throws(WorkFailure) -> Job {
        switch name {
        case JobName.visitResync: return Job.visitResync(try decodeInternal(VisitResyncTick.self, body))
        case JobName.leadRequest: return Job.leadRequest(try decodeInternal(LeadRequest.self, body))
        case JobName.leadReady: return Job.leadReady(try decodeInternal(LeadReady.self, body))
        case JobName.linkRefresh: return Job.linkRefresh(try decodeInternal(LinkVisitorRefresh.self, body))
        default:
            do {
                return .event(try Event.decode(from: body))
            } catch {
                throw WorkFailure.contractViolation(error)
            }
        }
    }

    private static func encodeInternal<Body: Encodable>(_ body: Body) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(body)
    }

    private static func decodeInternal<Body: Decodable>(_ type: Body.Type, _ body: Data) throws(WorkFailure) -> Body {
        do {
            return try JSONDecoder().decode(Body.self, from: body)
        } catch {
            throw WorkFailure.badMessage(code: "invalid_internal_message", "not a valid \(Body.self): \(error)")
        }
    }
}
