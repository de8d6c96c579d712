import Messages
import RPC

/// Who may call what: people manage their own subscriptions; agents read the log and send
/// ticket e-mail up to their access level; administrators (and services) manage webhooks,
/// templates and dead letters; account e-mails come from the gateway (a service) or an administrator.
enum Access {
    static func isAdministrator(_ caller: AuthV1.Principal) -> Bool {
        caller.administrator || caller.kind == .service
    }

    static func requireAdministrator(_ caller: AuthV1.Principal) throws {
        guard isAdministrator(caller) else {
            throw RPCError(.permissionDenied, "apenas administradores / administrators only")
        }
    }

    static func requireAgent(_ caller: AuthV1.Principal) throws {
        guard caller.kind == .agent || isAdministrator(caller) else {
            throw RPCError(.permissionDenied, "apenas atendentes / support staff only")
        }
    }

    /// The highest level the caller may read.
    static func level(_ caller: AuthV1.Principal) -> Int32 {
        isAdministrator(caller) ? Int32.max : caller.accessLevel
    }

    static func required(_ field: String, _ pt: String, _ en: String) -> RPCError {
        RPCError(.invalidArgument, "\(pt) / \(en)", violations: [FieldViolation(field: field, reason: "required", pt: pt, en: en)])
    }

    static func invalid(_ field: String, _ pt: String, _ en: String, reason: String = "invalid") -> RPCError {
        RPCError(.invalidArgument, "\(pt) / \(en)", violations: [FieldViolation(field: field, reason: reason, pt: pt, en: en)])
    }

    /// An e-mail refused because `suppression` holds for one of its addresses (in `field`).
    static func suppressed(_ field: String, _ suppression: NotificationV1.Suppression) -> RPCError {
        let pt = "Endereço suprimido (\(suppression.reason == "bounce" ? "devolução permanente" : "por um administrador")): "
            + "\(suppression.address); um administrador pode removê-lo da lista."
        let en = "Address suppressed (\(suppression.reason == "bounce" ? "permanent bounce" : "by an administrator")): "
            + "\(suppression.address); an administrator can remove it from the list."
        return RPCError(.failedPrecondition, "\(pt) / \(en)", violations: [FieldViolation(field: field, reason: "suppressed", pt: pt, en: en)])
    }
}
