import Crypto
import Foundation

/// The key that encrypts Salesforce refresh tokens at rest (AES-256-GCM).
///
/// Configured as 32 random bytes in base64 (for example `openssl rand -base64 32`). Its description is redacted so
/// that it never reaches a log.
public struct StoreEncryptionKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let key: SymmetricKey
    /// Keys the compare-and-swap digest of the refresh token, derived from `key` so that one secret suffices.
    let digestKey: SymmetricKey

    /// Reads a key from its base64 text; throws ``StoreError/Code/invalidEncryptionKey`` unless it is 32 bytes.
    public init(base64: String) throws {
        let text = base64.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Data(base64Encoded: text) else {
            throw StoreError(.invalidEncryptionKey, "the store encryption key is not valid base64")
        }
        guard bytes.count == 32 else {
            throw StoreError(
                .invalidEncryptionKey,
                "the store encryption key must be 32 bytes (base64 of 32 random bytes), got \(bytes.count)"
            )
        }
        self.init(SymmetricKey(data: bytes))
    }

    /// A fresh random key (tests, first-time setup).
    public static func random() -> StoreEncryptionKey {
        StoreEncryptionKey(SymmetricKey(size: .bits256))
    }

    /// The key as base64 text, to put in configuration.
    public var base64: String {
        self.key.withUnsafeBytes { Data($0).base64EncodedString() }
    }

    private init(_ key: SymmetricKey) {
        self.key = key
        self.digestKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: key,
            info: Data("docsend-sync refresh-token digest v1".utf8),
            outputByteCount: 32
        )
    }

    public var description: String { "StoreEncryptionKey(redacted)" }
    public var debugDescription: String { self.description }
}

/// What a sealed token is: part of the associated data, so that a ciphertext cannot be moved from one column to
/// another (an access token passed off as a refresh token) any more than to another team.
enum TokenKind: Sendable {
    /// The OAuth refresh token; its associated data is the team id alone (as sealed since schema version 1).
    case refresh
    /// The shared access token (schema version 3).
    case access
    /// The secret part of an admin OAuth flow in progress: a PKCE verifier, or tokens awaiting a confirmation
    /// (schema version 5).
    case oauthFlow

    func associatedData(teamID: String) -> Data {
        switch self {
        case .refresh: Data(teamID.utf8)
        case .access: Data("access-token\u{0}\(teamID)".utf8)
        case .oauthFlow: Data("oauth-flow\u{0}\(teamID)".utf8)
        }
    }

    var name: String {
        switch self {
        case .refresh: "refresh token"
        case .access: "access token"
        case .oauthFlow: "OAuth flow secret"
        }
    }
}

/// Seals tokens with AES-GCM, bound to their team and kind so that a ciphertext cannot be moved to another team or
/// column.
struct TokenCipher: Sendable {
    let key: StoreEncryptionKey

    /// nonce ‖ ciphertext ‖ tag.
    func seal(_ token: String, teamID: String, kind: TokenKind = .refresh) throws -> [UInt8] {
        do {
            let box = try AES.GCM.seal(
                Data(token.utf8), using: self.key.key, authenticating: kind.associatedData(teamID: teamID))
            guard let combined = box.combined else {
                throw StoreError(.invalidData, "AES-GCM produced no combined representation")
            }
            return Array(combined)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.invalidData, "could not encrypt the \(kind.name) of team \(teamID)", underlying: error)
        }
    }

    func open(_ sealed: [UInt8], teamID: String, kind: TokenKind = .refresh) throws -> String {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            let plain = try AES.GCM.open(box, using: self.key.key, authenticating: kind.associatedData(teamID: teamID))
            guard let token = String(bytes: plain, encoding: .utf8) else {
                throw StoreError(.invalidData, "the decrypted \(kind.name) of team \(teamID) is not UTF-8")
            }
            return token
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(
                .decryptionFailed,
                "the \(kind.name) of team \(teamID) does not decrypt with the configured store encryption key "
                    + "(was the key changed?); reconnect the team to Salesforce or restore the previous key",
                underlying: error
            )
        }
    }

    /// A keyed digest of the plaintext token: what compare-and-swap compares, since ciphertexts are randomised.
    func digest(_ token: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Data(token.utf8), using: self.key.digestKey))
    }
}
