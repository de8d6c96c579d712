/// The web portal's pages and assets.
enum PortalRoutes {
    static func register(in router: inout Router) {}
}
