import Messages

/// The outbox series of the gateway's `/metrics`, from each service's `Stats/Outbox` answer (nil:
/// the service did not answer). What each series means is in its help text and in
/// docs/STORAGE.md ("What the outbox's metrics mean"): counts stop at the service's count limit,
/// so that a scrape costs the same whatever the backlog.
enum OutboxMetricsText {
    static func render(services: [String], answers: [RpcV1.OutboxStatsResponse?]) -> String {
        var up = "", pending = "", age = "", retrying = "", limit = "", destinationPending = "", destinationAge = ""
        for (service, answer) in zip(services, answers) {
            let label = "service=\"\(GatewayMetrics.escape(service))\""
            // A service that does not answer says so, instead of only missing from the series.
            up += "ocorrencias_service_up{\(label)} \(answer == nil ? 0 : 1)\n"
            guard let answer else { continue }
            pending += "ocorrencias_outbox_pending{\(label)} \(answer.pending)\n"
            age += "ocorrencias_outbox_oldest_age_seconds{\(label)} \(Double(answer.oldestPendingAgeMs) / 1000)\n"
            retrying += "ocorrencias_outbox_retrying{\(label)} \(answer.retrying)\n"
            limit += "ocorrencias_outbox_count_limit{\(label)} \(answer.countLimit)\n"
            for destination in answer.destinations {
                let labels = "\(label),destination=\"\(GatewayMetrics.escape(destination.destination))\""
                destinationPending += "ocorrencias_outbox_destination_pending{\(labels)} \(destination.pending)\n"
                destinationAge += "ocorrencias_outbox_destination_oldest_age_seconds{\(labels)} \(Double(destination.oldestPendingAgeMs) / 1000)\n"
            }
        }
        var out = series("ocorrencias_service_up", "Whether the service answered the scrape's outbox question (1) or not (0: down, unreachable, or slower than 500 ms).", up)
        guard !pending.isEmpty else { return out }
        out += series("ocorrencias_outbox_pending", "Events written to a service's outbox and not yet delivered (one per subscriber of each event), counted up to ocorrencias_outbox_count_limit: a value equal to the limit means at least that many.", pending)
        out += series("ocorrencias_outbox_oldest_age_seconds", "Age of the oldest undelivered event in a service's outbox (the first enqueued one still waiting; 0 when empty).", age)
        out += series("ocorrencias_outbox_retrying", "Undelivered events in a service's outbox that failed at least once, counted up to ocorrencias_outbox_count_limit.", retrying)
        out += series("ocorrencias_outbox_count_limit", "Where a service stops counting its outbox's events: a count equal to it means at least that many (0: a service that counts them all).", limit)
        out += series("ocorrencias_outbox_destination_pending", "Events in a service's outbox not yet delivered to one destination (subscriber), counted up to ocorrencias_outbox_count_limit; no series when none wait.", destinationPending)
        out += series("ocorrencias_outbox_destination_oldest_age_seconds", "Age of the oldest event in a service's outbox not yet delivered to one destination (subscriber); no series when none wait.", destinationAge)
        return out
    }

    private static func series(_ name: String, _ help: String, _ samples: String) -> String {
        samples.isEmpty ? "" : "# HELP \(name) \(help)\n# TYPE \(name) gauge\n" + samples
    }
}
