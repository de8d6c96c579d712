import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage

/// Registers the `WorkflowTime` RPC service (Proto/ocorrencias/workflow/v1/workflow_time.proto).
///
/// Access: configuration writes (calendars, SLA and inactivity policies) need an administrator or
/// the `sla.configure` permission; reads and metrics need staff (agents, services, integrations);
/// `AnswerSurvey` needs no principal (the signed token is the authorization). A ticket's SLA is
/// shown only to agents who may see the ticket (its level at or below theirs, or they hold it).
extension WorkflowTime {
    /// Registers the RPC methods and runs the timer scheduler in the background.
    ///
    /// - Parameter stages: The flows' stage names by code (Portuguese and English), for the
    ///   metrics' rows and CSVs; a code not there reads as a shipped flow's stage, else as itself.
    public func register(runtime: ServiceRuntime, router: inout RPCRouter, stages: MetricsExport.StageNames = .shipped) {
        register(router: &router, principals: runtime.principals, stages: stages)
        runtime.addBackground(scheduler)
    }

    /// Registers the RPC methods, verifying callers with `principals`.
    public func register(router: inout RPCRouter, principals: PrincipalSigner, stages: MetricsExport.StageNames = .shipped) {
        let api = TimeAPI(time: self, principals: principals, stages: stages)
        api.registerCalendars(&router)
        api.registerSLA(&router)
        api.registerInactivity(&router)
        api.registerSurvey(&router)
        api.registerMetrics(&router)
    }
}

struct TimeAPI: Sendable {
    let time: WorkflowTime
    let principals: PrincipalSigner
    /// The flows' stage names by code (metrics rows and CSVs name their stage).
    var stages: MetricsExport.StageNames = .shipped

    var database: any Database { time.database }

    /// The calling member of staff, held to the access level ticket views hold them to
    /// (``TicketCoreSeam/caller(_:_:)``: the lower of the signed level and the agent record's).
    /// - Throws: `PERMISSION_DENIED` for a customer or an inactive agent.
    func staff(_ context: ServerContext) throws -> AuthV1.Principal {
        let caller = try principals.require(context)
        guard caller.kind == .agent || caller.kind == .service || caller.kind == .integration || caller.administrator else {
            throw RPCError(.permissionDenied, "apenas a equipe de suporte / support staff only")
        }
        return try held(caller)
    }

    /// `caller` as the ticket core's directory holds them (``TicketCoreSeam/caller(_:_:)``).
    func held(_ caller: AuthV1.Principal) throws -> AuthV1.Principal {
        guard caller.kind == .agent || caller.kind == .integration else { return caller }
        return try database.read { tx in try time.core.caller(tx, caller) }
    }

    /// Runs a configuration change once per idempotency key of `caller` (``Idempotent``): a
    /// retry gets the first answer, the same key with another request `FAILED_PRECONDITION`.
    func write<Request: ProtoMessage, Response: ProtoMessage>(_ context: ServerContext, _ request: Request, caller: AuthV1.Principal,
                                                               _ body: (any SQLExecutor) throws -> Response) throws -> Response {
        try Idempotent.write(database, context, caller: caller.id, request, body)
    }

    func configurer(_ context: ServerContext) throws -> AuthV1.Principal {
        let caller = try staff(context)
        guard caller.administrator || caller.kind == .service || caller.permissions.contains("sla.configure") else {
            throw RPCError(.permissionDenied, "requer administrador ou sla.configure / requires an administrator or sla.configure")
        }
        return caller
    }

    /// `INVALID_ARGUMENT` naming `field` once per problem. Problems are written "português /
    /// English": each violation carries the two halves apart, and the message is every
    /// Portuguese half, then " / ", then every English half (the form callers split).
    static func invalid(_ field: String, _ problems: [String]) -> RPCError {
        let halves = problems.map(BilingualText.split)
        return RPCError(.invalidArgument, halves.map(\.pt).joined(separator: "; ") + " / " + halves.map(\.en).joined(separator: "; "),
                        violations: halves.map { FieldViolation(field: field, reason: "invalid", pt: $0.pt, en: $0.en) })
    }
}
