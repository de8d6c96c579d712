/// How each `POST` route answers a retry with the same `Idempotency-Key` (docs/GATEWAY.md,
/// "Idempotency-Key"): every one not listed in ``exclusions`` stores its first answer with its
/// effect, in the owning service (``ServiceKit/Idempotent``) or in the gateway's own database
/// (``RequestContext/once(_:_:)``), and a retry gets that answer with no second effect.
///
/// A test (`IdempotencyCoverageTests`) fails when a `POST` route is added without being
/// either exercised by the retry test or listed here with its reason, so a new route cannot
/// silently ignore the key.
enum IdempotencyCoverage {
    /// `POST <template>` → why a stored answer is not what a retry should get (each reason is
    /// also in docs/GATEWAY.md). None of these makes a second *lasting* change on a retry.
    static let exclusions: [String: String] = [
        "POST /v1/auth/login":
            "a sign-in is not a creation to replay: each one is a new session (its cookie is the answer, which must never be stored); a retried sign-in makes another session, and both expire",
        "POST /v1/auth/tokens":
            "as for /v1/auth/login: each sign-in is a new bearer token, never stored, and a retry gets a token of its own",
        "POST /v1/auth/logout":
            "ends the caller's own session: a retry has no session left (401) and changes nothing",
        "POST /v1/me/password":
            "a retry is refused (403 WRONG_PASSWORD: the current password is the new one) and changes nothing; no fingerprint of a body holding passwords is kept",
        "POST /v1/auth/password-reset":
            "anonymous (no verified caller to scope a key by) and answered 202 the same way whether or not the address exists; a retry mails another one-hour link, within the rate limits",
        "POST /v1/auth/password-reset/confirm":
            "the link's token is single-use: a retry changes nothing and answers 400 invalid_or_expired; no fingerprint of a body holding the password is kept",
        "POST /v1/invitations/accept":
            "as for /v1/auth/password-reset/confirm: the invitation's token is single-use",
        "POST /v1/attachments":
            "a staging upload: a retry stores a second pending upload that only its uploader sees and nothing names; the open, reply or entry naming the id is the idempotent step, and intake's collector deletes pending uploads never named",
    ]
}
