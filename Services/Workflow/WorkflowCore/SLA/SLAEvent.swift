import Observability

/// One fact of a ticket's life that the SLA clock depends on. The clock is always recomputed
/// from the whole list, so a late change (priority, plan, calendar) re-evaluates the past.
public enum SLAEvent: Sendable, Hashable, Codable {
    /// The ticket was opened with these attributes (`calendarID` "" = the policy's calendar).
    case opened(plan: String, priority: Int32, stage: String, calendarID: String)
    /// The ticket entered `stage` (pause stages stop the clocks; final stages stop resolution).
    case stageChanged(String)
    /// An agent answered the customer publicly (stops first and next response).
    case agentResponse
    /// The customer wrote (starts a next-response cycle once the first response was given).
    case customerReply
    case priorityChanged(Int32)
    case planChanged(String)
    /// The ticket's business calendar changed from this moment on ("" = the policy's calendar).
    case calendarChanged(String)

    /// The event as stored in `wf_sla_events.detail`: the JSON `JSONEncoder` writes for it (the
    /// same keys and values; `JSONDecoder` reads either), written directly — the encoder was
    /// ≈ 3 % of workflow's CPU per opened ticket.
    var detail: String {
        func text(_ value: String) -> String { JSONText.quote(value) }
        switch self {
        case .opened(let plan, let priority, let stage, let calendarID):
            return "{\"opened\":{\"plan\":\(text(plan)),\"priority\":\(priority),\"stage\":\(text(stage)),\"calendarID\":\(text(calendarID))}}"
        case .stageChanged(let stage): return "{\"stageChanged\":{\"_0\":\(text(stage))}}"
        case .agentResponse: return "{\"agentResponse\":{}}"
        case .customerReply: return "{\"customerReply\":{}}"
        case .priorityChanged(let priority): return "{\"priorityChanged\":{\"_0\":\(priority)}}"
        case .planChanged(let plan): return "{\"planChanged\":{\"_0\":\(text(plan))}}"
        case .calendarChanged(let calendar): return "{\"calendarChanged\":{\"_0\":\(text(calendar))}}"
        }
    }

    var kind: String {
        switch self {
        case .opened: "opened"
        case .stageChanged: "stage_changed"
        case .agentResponse: "agent_response"
        case .customerReply: "customer_reply"
        case .priorityChanged: "priority_changed"
        case .planChanged: "plan_changed"
        case .calendarChanged: "calendar_changed"
        }
    }
}

/// An ``SLAEvent`` at an instant (epoch milliseconds).
public struct TimedSLAEvent: Sendable, Hashable {
    public var at: Int64
    public var event: SLAEvent

    public init(_ at: Int64, _ event: SLAEvent) {
        self.at = at
        self.event = event
    }
}
