import Messages
import RPC

/// What a signed principal may do in the knowledge base.
///
/// - customers (and integrations without `knowledge.read_internal`) read public, published
///   articles and reviewed forum entries only;
/// - agents also read internal articles, ask for FAQs, link articles to tickets and read reports;
/// - editors (`knowledge.edit` or `knowledge.write` permission — the gateway grants
///   `knowledge.write` to its `knowledge_editor` and `administrator` roles only —,
///   administrators, services) write articles, synonyms and review the queue, and read drafts
///   and archived articles. A plain agent or chefe writing gets `PERMISSION_DENIED`.
public struct Caller: Sendable {
    public enum Role: Int, Sendable, Comparable {
        case customer = 0, agent = 1, editor = 2
        public static func < (a: Role, b: Role) -> Bool { a.rawValue < b.rawValue }
    }

    public let principal: AuthV1.Principal
    public let role: Role
    /// The call's `idempotency-key`: the changes made through ``KnowledgeBase/write(_:_:_:replayCheck:_:)``
    /// happen once per key of this caller.
    public var idempotencyKey: String?

    public init(_ principal: AuthV1.Principal) {
        self.principal = principal
        let permissions = Set(principal.permissions)
        let writes = permissions.contains("knowledge.edit") || permissions.contains("knowledge.write")
        switch principal.kind {
        case .service:
            role = .editor
        case .agent:
            role = principal.administrator || writes ? .editor : .agent
        case .integration:
            role = writes ? .editor
                : permissions.contains("knowledge.read_internal") ? .agent : .customer
        case .customer, .unspecified:
            role = .customer
        }
    }

    /// Reads only what customers may read.
    public var publicOnly: Bool { role == .customer }

    /// Whether this caller may read an article with `visibility` in `state`.
    public func canRead(visibility: KnowledgeV1.Visibility, state: KnowledgeV1.ArticleState) -> Bool {
        switch role {
        case .editor: return true
        case .agent: return state == .published
        case .customer: return state == .published && visibility == .customers
        }
    }

    /// - Throws: `PERMISSION_DENIED` unless the caller is at least `role`.
    public func require(_ needed: Role) throws {
        guard role >= needed else {
            switch needed {
            case .editor:
                throw RPCError(.permissionDenied, "apenas editores da base de conhecimento / knowledge editors only")
            default:
                throw RPCError(.permissionDenied, "apenas a equipe de suporte / support staff only")
            }
        }
    }
}
