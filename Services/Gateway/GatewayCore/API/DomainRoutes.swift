/// Routes for the services' domain APIs (tickets, knowledge, notification), wired once their
/// RPCs exist.
enum DomainRoutes {
    static func register(in router: inout Router) {}
}
