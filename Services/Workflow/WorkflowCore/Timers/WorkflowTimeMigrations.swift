import Storage

/// The migrations of workflow's time-related half (calendars, SLA, timers, inactivity, survey,
/// metrics), numbered from 100 so they never collide with the ticket core's (1–99).
/// `WorkflowService.migrations` appends them.
public enum WorkflowTimeMigrations {
    public static var all: [Migration] {
        CalendarStore.migrations + SLAEngine.migrations + TimerStore.migrations + InactivityEngine.migrations
            + SurveyService.migrations + MetricsRecorder.migrations
            // SLA policies and calendars cached in memory per configuration version (Config/ConfigVersion.swift).
            + [ConfigVersion.migration(version: 160, name: "time_config_version", tables: ["wf_sla_policies", "wf_calendars", "wf_calendar_days"]),
               // Inactivity policies join that cache (an opening reads none of the three tables).
               ConfigVersion.migration(version: 161, name: "time_config_version_inactivity", tables: ["wf_inactivity_policies"]),
               // The filtered report's cohort counters, kept by every metrics event (Metrics/CohortCounters.swift).
               CohortCounters.migration,
               // Open tickets above level 0: a level-held viewer's backlog (Metrics/FilteredMetrics.swift).
               MetricsQuery.confidentialMigration,
               // Finished tickets by outcome: the tickets' outcome, cohort outcome counters, rollup rows (Metrics/OutcomeMetrics.swift).
               MetricsQuery.outcomeMigration,
               // The day a ticket's resolution counted on, so a reopening withdraws it (Metrics/MetricsRecorder.swift).
               MetricsRecorder.resolvedAtMigration,
               // ... and the dimensions it counted under, so a reclassified finished ticket's reopening finds it (same file).
               MetricsRecorder.resolvedDimensionsMigration]
    }
}
