/// The tickets a request names by id, for checks that must cover whatever a request is about
/// (``WorkflowAPI/replayCheck(_:_:gate:)``): the values of its fields `ticket_id`, `other_ticket_id`
/// and `ticket_ids`, as the generated messages call them (`ticketID`, `otherTicketID`,
/// `ticketIDs`), read by reflection so a new request naming a ticket is covered without a list
/// to keep. Only top-level fields: a nested message's ticket is its own request's business.
enum TicketsNamed {
    static let singleFields: Set<String> = ["ticketID", "otherTicketID"]
    static let listFields: Set<String> = ["ticketIDs"]

    /// The ids `request` names, in field order (empty when it names none).
    static func ids(in request: Any) -> [String] {
        var ids: [String] = []
        for child in Mirror(reflecting: request).children {
            guard let label = child.label else { continue }
            if singleFields.contains(label), let id = child.value as? String {
                ids.append(id)
            } else if listFields.contains(label), let list = child.value as? [String] {
                ids += list
            }
        }
        return ids
    }
}
