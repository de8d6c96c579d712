import Foundation
import Messages
import Observability
import RPC
import ServiceKit

/// Keeps customers' and representatives' sign-ins in step with their intake person, whatever
/// path changed it (the gateway's route, an integration on the public RPC port, an intake
/// client): intake's events reach every gateway instance through the event feed
/// (``ViewCacheFeed``, which runs whether or not the view cache is enabled), and for each
/// event that may concern a followed person this asks intake for the person's **current**
/// state and applies it (``CredentialStore/follow(_:active:)``).
///
/// - A contact's `DirectoryChanged` (keyed by the contact id) and a representative's
///   `RepresentativeAccessChanged` (keyed by the representative id, also sent when one of its
///   people is activated or deactivated) queue their key; keys naming no followed person cost
///   one database read and no call.
/// - When an intake stream opens (again: at start, after intake or the network was down),
///   events may have been missed, so every followed person is checked (one intake call per
///   organization or representative with sign-ins, naming only the followed contacts).
///
/// Work runs on a thread of its own, one item at a time, so the feed never waits for intake.
/// An item that fails (intake unreachable) stays queued and is tried again after a pause. Each
/// answer is applied as read, and every instance applies every event in order, so instances
/// converge on intake's latest state whatever their interleaving.
public final class ContactSignInFollower: BackgroundService, @unchecked Sendable {
    enum Work: Hashable {
        /// An event's key: a contact or representative id.
        case key(String)
        /// Every followed person.
        case everyone
    }

    let store: CredentialStore
    let people: LinkedPeople
    let logger: Logger
    let retryMilliseconds: Int
    private let condition = NSCondition()
    // Guarded by condition.
    private var queue: [Work] = []
    private var stopped = false
    private var working = false
    private var thread: Thread?

    init(store: CredentialStore, people: LinkedPeople, logger: Logger, retryMilliseconds: Int = 1_000) {
        self.store = store
        self.people = people
        self.logger = logger
        self.retryMilliseconds = retryMilliseconds
    }

    /// Whether `event` may change a followed person's state.
    static func concernsPeople(_ event: EventsV1.EventEnvelope) -> Bool {
        event.source == "intake"
            && (event.type == IntakeV1.DirectoryChanged.protoName || event.type == IntakeV1.RepresentativeAccessChanged.protoName)
    }

    /// Queues the work an event of the feed calls for (nothing for other events).
    func take(_ event: EventsV1.EventEnvelope) {
        guard Self.concernsPeople(event), !event.key.isEmpty else { return }
        enqueue(.key(event.key))
    }

    /// Queues a check of every followed person (a feed stream to intake opened).
    func checkEveryone() { enqueue(.everyone) }

    func enqueue(_ work: Work) {
        condition.withLock {
            guard !queue.contains(work) else { return }
            queue.append(work)
            condition.broadcast()
        }
    }

    /// Work queued or running (for tests and `/metrics`).
    var pending: Int { condition.withLock { queue.count + (working ? 1 : 0) } }

    public func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = "contact-sign-ins"
        condition.withLock { self.thread = thread }
        thread.start()
    }

    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        let deadline = Date(timeIntervalSinceNow: 5)
        while thread != nil { if !condition.wait(until: deadline) { break } }
        condition.unlock()
    }

    private func run() {
        defer { condition.withLock { thread = nil; condition.broadcast() } }
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if stopped { condition.unlock(); return }
            let work = queue[0]
            working = true
            condition.unlock()
            let done = perform(work)
            condition.lock()
            working = false
            if done, let index = queue.firstIndex(of: work) { queue.remove(at: index) }
            if !done {
                // Intake did not answer: try again later (other queued work waits behind it).
                let deadline = Date(timeIntervalSinceNow: Double(retryMilliseconds) / 1000)
                while !stopped { if !condition.wait(until: deadline) { break } }
            }
            condition.unlock()
        }
    }

    /// Applies one item; false when it should be tried again.
    func perform(_ work: Work) -> Bool {
        do {
            let people: Set<LinkedContact>
            switch work {
            case .key(let key): people = try store.linkedContacts(announcedAs: key)
            case .everyone: people = try store.allLinkedContacts()
            }
            try apply(people)
            return true
        } catch {
            logger.warning("contact sign-ins not updated: \(error)", ["work": "\(work)"])
            return false
        }
    }

    /// Asks intake once per owner and applies each person's state.
    func apply(_ people: Set<LinkedContact>) throws {
        for (owner, members) in Dictionary(grouping: people, by: \.owner) {
            // Only the followed contacts (intake takes up to 1000 ids; more: the whole list).
            let ids = members.map(\.contactID)
            let states = try self.people.states(of: owner, only: ids.count <= 1000 ? ids : [])
            for person in members {
                let active = states[person.contactID] ?? false
                let changed = try store.follow(person, active: active)
                if !changed.isEmpty {
                    logger.info(active ? "sign-ins enabled: their intake person is active again" : "sign-ins disabled: their intake person is inactive",
                                ["contact.id": person.contactID, "users": changed.joined(separator: ",")])
                }
            }
        }
    }
}
