/// Who made an API key (`created_by`): a key works only while that sign-in is not disabled and
/// exists (``CredentialStore/verifyAPIKey(_:)``), so every key must name a person.
///
/// A key made with another key records the person behind the making key (the maker chain: the
/// sign-in at its root), so disabling that person stops every key made down the chain. Keys made
/// with a key before this was recorded have no maker (`created_by` empty) and keep working until
/// revoked: `GET /v1/api-keys?maker=unknown` lists those still valid for an administrator's review
/// (nothing recorded which key made them, so no backfill is possible), and such a key may not
/// make keys (403 `API_KEY_MAKER_UNKNOWN`): no new key without a person behind it.
enum APIKeyMakers {
    /// 403: a key with no recorded maker making a key.
    static let makerUnknown = APIError(
        status: 403, code: "API_KEY_MAKER_UNKNOWN",
        pt: "Esta chave de API não tem criador registrado e não pode criar chaves: crie a chave com um acesso de administrador (e revise esta chave).",
        en: "This API key has no recorded maker and cannot make keys: make the key signed in as an administrator (and review this key).")

    /// The sign-in a key made by `context`'s caller records as its maker.
    /// - Throws: ``makerUnknown`` for a caller's key with no recorded maker.
    static func maker(_ context: RequestContext) throws -> String? {
        if let user = context.user { return user.id }
        guard let key = context.apiKey else { return nil }
        guard let maker = key.createdBy, !maker.isEmpty else { throw makerUnknown }
        return maker
    }

    /// `GET /v1/api-keys`: every key, or with `maker=unknown` the keys not revoked whose maker is
    /// unknown (400 naming `maker` for another value).
    static func listed(_ request: HTTPRequest, _ context: RequestContext) throws -> [APIKeyRecord] {
        let keys = try context.gateway.store.apiKeys()
        switch request.query["maker"] {
        case nil:
            return keys
        case "unknown":
            return keys.filter { ($0.createdBy ?? "").isEmpty && $0.revokedAt == nil }
        default:
            throw APIError.invalid("maker", "invalid_value", pt: "Use maker=unknown.", en: "Use maker=unknown.")
        }
    }
}
