import Foundation
import Storage

// The time half is wired to the ticket core by the core's `Integration/TimeWiring.swift`
// (`TimeObserver` on the `TicketObserver` seam, `CoreSeam` answering `TicketCoreSeam`) and
// `WorkflowService.register`, which calls `WorkflowTime.register(runtime:router:)` below.

extension WorkflowTime {
    /// First start only: installs the shipped inactivity presets (`padrao` and `totvs`; their
    /// stages do not overlap), which mirror the `timer` transitions of the shipped flows. They are
    /// data from then on (`PutInactivityPolicy`, `InstallInactivityPreset`).
    /// - Returns: whether anything was installed.
    @discardableResult
    public func seedInactivityPolicies() throws -> Bool {
        let now = clock()
        return try database.write { tx in
            guard try InactivityPolicyStore.all(tx).isEmpty else { return false }
            try InactivityPolicyStore.install(tx, InactivityPresets.padrao + InactivityPresets.totvs, at: now)
            return true
        }
    }
}
