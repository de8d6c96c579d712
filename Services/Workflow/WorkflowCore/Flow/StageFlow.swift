import Messages

/// One stage of a flow.
public struct StageDefinition: Sendable, Hashable {
    /// Internal key, e.g. "em_atendimento".
    public var key: String
    /// Name shown to agents.
    public var name: String
    /// Name shown to customers.
    public var customerName: String
    /// The public stage customers see this one as (itself when it is public).
    public var customerStage: String
    public var isFinal: Bool
    /// ``name`` in English (what people read in English: the listing rows', counts', moves' and
    /// metrics' `stage_name_en`, the events' `TicketSummary.stage_name_en`, the queue's CSV
    /// `stage_en`, the metrics' CSVs): the flow's own (`flow_stages.name_en`, migration 200), else a shipped stage's
    /// (``ShippedStageNames``), else ``name`` itself.
    public var nameEN: String
    /// ``customerName`` in English, likewise (`flow_stages.customer_name_en`; customers' rows and
    /// moves, `TicketView.customer_stage_name_en`, `TicketSummary.customer_stage_name_en`).
    public var customerNameEN: String

    public init(_ key: String, _ name: String, customer: String? = nil, shownAs customerStage: String? = nil, isFinal: Bool = false,
                nameEN: String = "", customerNameEN: String = "") {
        self.key = key
        self.name = name
        self.customerName = customer ?? name
        self.customerStage = customerStage ?? key
        self.isFinal = isFinal
        self.nameEN = nameEN.isEmpty ? ShippedStageNames.name(name, .english) : nameEN
        self.customerNameEN = customerNameEN.isEmpty ? ShippedStageNames.name(customer ?? name, .english) : customerNameEN
    }
}

/// What starts a transition.
public enum TransitionTrigger: String, Sendable, CaseIterable {
    /// An agent (or chefe) moves the ticket.
    case agent
    /// The customer acts on the ticket (e.g. accepts or rejects a solution).
    case customer
    /// The customer replied (intake's CustomerReplied).
    case customerReply = "customer_reply"
    /// The customer cancelled (intake's TicketCancelledByCustomer).
    case customerCancel = "customer_cancel"
    /// A durable timer fired (inactivity and validation periods; see the SLA/timers part).
    case timer
}

/// One allowed move, with its guards. `from` is a stage key or "*" (any open stage).
public struct Transition: Sendable, Hashable {
    public var from: String
    public var to: String
    public var trigger: TransitionTrigger
    /// Categories the move is allowed for; empty means any.
    public var categories: Set<CommonV1.Category>
    /// Outcome recorded when the move finishes the ticket ("resolvida", "negada", ...).
    public var outcome: String
    public var requiresNote: Bool
    /// A text shown to the customer is required (e.g. the reason of a denial).
    public var requiresPublicNote: Bool
    /// Permission the agent needs (e.g. "product.decide"); empty means none.
    public var permission: String
    /// For timer transitions: after how many days (the timers part schedules them).
    public var afterDays: Int
    /// A short label for the move ("aceitar", "negar", ...).
    public var label: String

    public init(_ from: String, _ to: String, _ trigger: TransitionTrigger = .agent, categories: Set<CommonV1.Category> = [],
                outcome: String = "", requiresNote: Bool = false, requiresPublicNote: Bool = false, permission: String = "",
                afterDays: Int = 0, label: String = "") {
        self.from = from
        self.to = to
        self.trigger = trigger
        self.categories = categories
        self.outcome = outcome
        self.requiresNote = requiresNote
        self.requiresPublicNote = requiresPublicNote
        self.permission = permission
        self.afterDays = afterDays
        self.label = label
    }

    /// Whether this transition leaves `stage` (a final stage is only left by explicit transitions).
    public func leaves(_ stage: StageDefinition) -> Bool {
        from == stage.key || (from == "*" && !stage.isFinal)
    }
}

/// A flow: stages and the transition table. Vendors choose one by name; the rows live in the
/// `flow_stages`, `flow_settings` and `flow_transitions` tables, seeded from ``FlowPresets``.
public struct StageFlow: Sendable {
    public var name: String
    public var stages: [StageDefinition]
    public var transitions: [Transition]
    /// Where new tickets wait (in their group's queue).
    public var queueStage: String
    /// Where a ticket goes when an agent takes it from the queue.
    public var workingStage: String
    /// Where it waits on the customer (SLA clocks pause there).
    public var waitingStage: String

    public init(name: String, stages: [StageDefinition], transitions: [Transition], queueStage: String, workingStage: String, waitingStage: String) {
        self.name = name
        self.stages = stages
        self.transitions = transitions
        self.queueStage = queueStage
        self.workingStage = workingStage
        self.waitingStage = waitingStage
    }

    public func stage(_ key: String) -> StageDefinition? { stages.first { $0.key == key } }

    /// Transitions out of `stage` for `trigger` and `category`, in table order.
    public func moves(from stage: String, trigger: TransitionTrigger, category: CommonV1.Category) -> [Transition] {
        guard let current = self.stage(stage) else { return [] }
        return transitions.filter {
            $0.leaves(current) && $0.trigger == trigger && ($0.categories.isEmpty || $0.categories.contains(category))
        }
    }

    /// Keys of the final stages.
    public var finalStages: [String] { stages.filter(\.isFinal).map(\.key) }
}
