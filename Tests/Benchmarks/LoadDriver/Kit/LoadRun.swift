import Foundation
import Synchronization

/// What `load-driver run` writes for `verify`: the cast and every acknowledged ticket.
public struct RunState: Codable, Sendable {
    public var cast: Cast
    public var records: [TicketRecord]
}

/// Figures of one load run.
public struct RunFigures: Codable, Sendable {
    public var seconds = 0.0
    public var targetRate = 0.0
    public var attempted = 0
    public var opened = 0
    public var openFailures = 0
    public var finished = 0
    public var stalled = 0
    public var achievedOpenRate = 0.0
    public var openLatencyP50Ms = 0.0
    public var openLatencyP95Ms = 0.0
    public var journeyP50Ms = 0.0
    public var journeyP95Ms = 0.0
    /// Longest time without any acknowledged step (a proxy for recovery time after a kill).
    public var longestStallMs = 0.0
    /// When the longest stall began, in seconds from the start of the run (to line it up with faults).
    public var longestStallStartS = 0.0
    /// The step, and the ticket, whose acknowledgement ended the longest stall (what was waited on).
    public var longestStallEndedBy = ""
    public var skippedOpens = 0
}

/// Opens tickets at a steady rate for a while, each then driven through its journey on its own
/// thread, and collects the acknowledged records.
public final class LoadRun: @unchecked Sendable {
    let journey: Journey
    let rate: Double
    let seconds: Double
    let maxInFlight: Int
    let tag: String
    private let lock = NSLock()
    private var records: [Int: TicketRecord] = [:]  // guarded by lock
    private var openLatencies: [Double] = []  // guarded by lock
    private var journeyDurations: [Double] = []  // guarded by lock
    private var openFailures = 0  // guarded by lock
    private var lastProgress = Date()  // guarded by lock
    private var longestStall = 0.0  // guarded by lock
    private var longestStallStart = Date()  // guarded by lock
    private var longestStallEndedBy = ""  // guarded by lock
    private var runStart = Date()  // guarded by lock
    private let inFlight = Atomic<Int>(0)

    public init(journey: Journey, rate: Double, seconds: Double, maxInFlight: Int, tag: String) {
        self.journey = journey
        self.rate = rate
        self.seconds = seconds
        self.maxInFlight = maxInFlight
        self.tag = tag
    }

    private func progress(_ record: TicketRecord) {
        lock.lock()
        let now = Date()
        if now.timeIntervalSince(lastProgress) > longestStall {
            longestStall = now.timeIntervalSince(lastProgress)
            longestStallStart = lastProgress
            longestStallEndedBy = "\(record.step) \(record.id)"
        }
        lastProgress = now
        lock.unlock()
    }

    /// Runs the load; returns the records (in opening order) and the figures.
    public func run() -> (RunState, RunFigures) {
        let start = Date()
        let interval = 1 / rate
        var attempted = 0
        var skipped = 0
        let group = DispatchGroup()
        lock.lock(); lastProgress = start; runStart = start; lock.unlock()
        while Date().timeIntervalSince(start) < seconds {
            let due = start.addingTimeInterval(Double(attempted + skipped) * interval)
            let wait = due.timeIntervalSinceNow
            if wait > 0 { usleep(useconds_t(wait * 1_000_000)) }
            if inFlight.load(ordering: .relaxed) >= maxInFlight {
                skipped += 1
                continue
            }
            let index = attempted
            attempted += 1
            inFlight.add(1, ordering: .relaxed)
            group.enter()
            let thread = Thread { [self] in
                defer {
                    inFlight.subtract(1, ordering: .relaxed)
                    group.leave()
                }
                let nonce = "\(tag)-\(index)"
                let began = Date()
                guard var record = try? journey.open(nonce: nonce) else {
                    lock.lock(); openFailures += 1; lock.unlock()
                    return
                }
                let latency = Date().timeIntervalSince(began) * 1000
                lock.lock()
                records[index] = record
                openLatencies.append(latency)
                lock.unlock()
                progress(record)
                journey.advance(&record, nonce: nonce) { step in
                    self.lock.lock()
                    self.records[index] = step
                    self.lock.unlock()
                    self.progress(step)
                }
                lock.lock()
                records[index] = record
                if record.step == .finished { journeyDurations.append(Date().timeIntervalSince(began) * 1000) }
                lock.unlock()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        let loadEnded = Date()
        group.wait()
        lock.lock()
        defer { lock.unlock() }
        let ordered = records.keys.sorted().map { records[$0]! }
        var figures = RunFigures()
        figures.seconds = loadEnded.timeIntervalSince(start)
        figures.targetRate = rate
        figures.attempted = attempted
        figures.skippedOpens = skipped
        figures.opened = ordered.count
        figures.openFailures = openFailures
        figures.finished = ordered.filter { $0.step == .finished }.count
        figures.stalled = ordered.filter { $0.step != journey.lastStep }.count
        figures.achievedOpenRate = Double(ordered.count) / max(figures.seconds, 0.001)
        figures.openLatencyP50Ms = percentile(openLatencies, 0.5)
        figures.openLatencyP95Ms = percentile(openLatencies, 0.95)
        figures.journeyP50Ms = percentile(journeyDurations, 0.5)
        figures.journeyP95Ms = percentile(journeyDurations, 0.95)
        figures.longestStallMs = longestStall * 1000
        figures.longestStallStartS = longestStallStart.timeIntervalSince(runStart)
        figures.longestStallEndedBy = longestStallEndedBy
        return (RunState(cast: journey.cast, records: ordered), figures)
    }
}

/// The `q` quantile of `values` (0 when empty).
public func percentile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
}
