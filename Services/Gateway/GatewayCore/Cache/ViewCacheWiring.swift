import Foundation
import Messages
import Observability
import RPC
import ServiceKit

extension Gateway {
    /// The feed of intake's (and, with the view cache, workflow's) events: it keeps the view
    /// cache correct when the cache is enabled, and in every case drops a representative's
    /// organizations from `representatives` on intake's `RepresentativeAccessChanged`, drops
    /// what `directory` knows of an entry on its `DirectoryChanged`, and hands intake's directory
    /// events to `signIns` (a contact deactivated in intake ends its sign-ins). `nil` only when
    /// intake has no address.
    static func makeEventFeed(cache: ViewCache, representatives: RepresentativeDirectory, directory: ActiveStates, signIns: ContactSignInFollower,
                              runtime: ServiceRuntime, configuration: ViewCacheConfiguration) -> ViewCacheFeed? {
        // Without the cache, workflow's ticket events serve nobody.
        let services = configuration.isEnabled ? ["intake", "workflow"] : ["intake"]
        guard !runtime.configuration.endpoints(of: "intake").isEmpty else { return nil }
        return ViewCacheFeed(cache: cache, services: services.map { ($0, runtime.configuration.endpoints(of: $0)) },
                             secret: runtime.secret, logger: runtime.logger,
                             silenceMilliseconds: configuration.silenceMilliseconds, maxLagMilliseconds: configuration.maxLagMilliseconds,
                             onEvent: { event in
                                 forgetDirectoryEntries(event, representatives: representatives, directory: directory)
                                 signIns.take(event)
                             },
                             onOpen: { service in
                                 // Events may have been missed while the stream was closed.
                                 if service == "intake" { signIns.checkEveryone() }
                             })
    }

    /// Drops what an intake event of the feed makes stale: a representative's organizations on
    /// its `RepresentativeAccessChanged`; on a `DirectoryChanged`, keyed by the entry's id (an
    /// organization's or a contact's: watchers get no payload to tell), the organization's active
    /// state and representatives' lists naming it, and whether the contact is its company's
    /// administrator (its `admin` flag, active state, deletion; ``CompanyAdministratorAccess``).
    static func forgetDirectoryEntries(_ event: EventsV1.EventEnvelope, representatives: RepresentativeDirectory, directory: ActiveStates) {
        if event.type == IntakeV1.RepresentativeAccessChanged.protoName { representatives.forget(event.key) }
        guard event.source == "intake" && event.type == IntakeV1.DirectoryChanged.protoName else { return }
        directory.forget(event.key)
        directory.forget(CompanyAdministratorAccess.key(contactID: event.key))
        representatives.forget(organization: event.key)
    }

    /// Whether cached views may be served and stored now: the cache is enabled and its feed
    /// is healthy (every stream open, recent, not lagging).
    func viewCacheUsable() -> Bool {
        guard configuration.viewCache.isEnabled, let feed = eventFeed else { return false }
        return feed.isHealthy()
    }

    /// The answer for `reference` as `principal` sees it: from the view cache when it holds a fresh
    /// one, otherwise `fetch`ed and stored under the ticket id `fetch` returns (`nil`: not stored),
    /// if the feed is still healthy after fetching (nothing was missed meanwhile). Without a usable
    /// cache, just `fetch`.
    func viewCached(_ reference: @autoclosure () -> String, for principal: AuthV1.Principal,
                    fetch: () throws -> (body: [UInt8], ticketID: String?)) rethrows -> [UInt8] {
        guard viewCacheUsable() else { return try fetch().body }
        let key = ViewCache.Key(reference: reference(), principal: principal.serializedBytes())
        if let body = viewCache.lookup(key) { return body }
        let started = viewCache.beginFetch()
        let answer = try fetch()
        if let ticketID = answer.ticketID, viewCacheUsable() {
            viewCache.store(key, ticketID: ticketID, body: answer.body, fetch: started)
        }
        return answer.body
    }

    /// After a successful request: a write through this gateway drops what it may have changed
    /// at once (read-your-writes), before the answer reaches the caller.
    func viewCacheAfterRequest(method: String, route: Route, parameters: [String: String], status: Int) {
        if status < 400, method == "POST", route.template == "/v1/representatives/{id}", let id = parameters["id"] {
            // Its organizations may have changed: ask intake again (other instances by the event).
            representatives.forget(id)
        }
        if status < 400, method == "POST", route.template == "/v1/organizations/{id}", let id = parameters["id"] {
            // It may have been activated or deactivated (other instances learn it by the event).
            directoryStates.forget(id)
            representatives.forget(organization: id)
        }
        if status < 400, method != "GET", route.template.hasPrefix("/v1/contacts/{id}"), let id = parameters["id"] {
            // Its `admin` flag or active state may have changed, or it is gone (other instances
            // learn it by the event).
            directoryStates.forget(CompanyAdministratorAccess.key(contactID: id))
        }
        guard configuration.viewCache.isEnabled, eventFeed != nil, status < 400, !["GET", "HEAD", "OPTIONS"].contains(method) else { return }
        let template = route.template
        // Writes that change no ticket nor anything a listing shows.
        let listingUnchanged = template.hasPrefix("/v1/auth") || template.hasPrefix("/v1/attachments")
            || template.hasPrefix("/v1/knowledge") || template.hasPrefix("/v1/me")
        // Listings (queue pages) may change with any other write, opening tickets included.
        if !listingUnchanged { viewCache.invalidate(ViewCache.listsKey) }
        if template.hasPrefix("/v1/tickets/{id}") {
            let reference = parameters["id"] ?? ""
            // A code this cache never saw may name a ticket cached under its id: drop all.
            if viewCache.knows(reference) || Self.looksLikeTicketID(reference) {
                viewCache.invalidate(reference)
            } else {
                viewCache.invalidateAll()
            }
            return
        }
        // Writes that cannot change an existing ticket's view.
        if template == "/v1/tickets" || listingUnchanged { return }
        // Anything else (bulk actions, administration: names, groups, levels) may: drop all.
        viewCache.invalidateAll()
    }

    /// Ticket ids are UUIDs (anything else in the path is a code).
    static func looksLikeTicketID(_ text: String) -> Bool {
        text.utf8.count == 36 && UUID(uuidString: text) != nil
    }

    /// `/metrics` lines for the view cache.
    func viewCacheMetrics() -> String {
        let stats = viewCache.currentStats
        var out = "# HELP ocorrencias_view_cache_total Ticket view cache events by kind.\n# TYPE ocorrencias_view_cache_total counter\n"
        for (kind, value) in [("hit", stats.hits), ("miss", stats.misses), ("store", stats.stores), ("rejected_store", stats.rejectedStores),
                              ("invalidation", stats.invalidations), ("flush", stats.flushes), ("eviction", stats.evictions),
                              ("expiration", stats.expirations)] {
            out += "ocorrencias_view_cache_total{kind=\"\(kind)\"} \(value)\n"
        }
        out += "# HELP ocorrencias_view_cache_entries Cached ticket views.\n# TYPE ocorrencias_view_cache_entries gauge\n"
        out += "ocorrencias_view_cache_entries \(stats.entries)\n"
        out += "# HELP ocorrencias_view_cache_bytes Memory counted for cached ticket views.\n# TYPE ocorrencias_view_cache_bytes gauge\n"
        out += "ocorrencias_view_cache_bytes \(stats.bytes)\n"
        out += "# HELP ocorrencias_view_cache_usable 1 when the event feed is healthy and cached views are served.\n"
        out += "# TYPE ocorrencias_view_cache_usable gauge\nocorrencias_view_cache_usable \(viewCacheUsable() ? 1 : 0)\n"
        if configuration.viewCache.isEnabled, let feed = eventFeed {
            out += "# HELP ocorrencias_view_cache_feed_lag_seconds Outbox lag of gateway events reported by each feed stream.\n"
            out += "# TYPE ocorrencias_view_cache_feed_lag_seconds gauge\n"
            for link in feed.linkStates() {
                let lag = link.connected ? Double(link.lagMs) / 1000 : -1
                out += "ocorrencias_view_cache_feed_lag_seconds{service=\"\(GatewayMetrics.escape(link.service))\",address=\"\(GatewayMetrics.escape(link.endpoint))\"} \(lag)\n"
            }
        }
        return out
    }
}

extension ViewCacheFeed: BackgroundService {}
