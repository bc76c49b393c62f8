import EventSchema
import Foundation

extension APIApplication {
    /// Validates and inserts a work order, audits it, and commits its `workorder.created` event to the outbox
    /// in the same transaction (`OutboxRelay` publishes it).
    func createWorkOrder(_ input: WorkOrderInput, principal: Principal?,
                         auditAction: String = "workorder.create") async throws -> WorkOrder {
        let draft = try input.validated()
        guard try await store.product(draft.product) != nil else {
            throw APIError(.invalidParameter, "product \"\(draft.product)\" does not exist; create it with POST /v1/products first")
        }
        let event = try outboxMessage(WorkOrderCreated(
            workOrderId: draft.id, product: draft.product, quantityTarget: draft.quantityTarget, asset: draft.asset,
            scheduledStart: draft.scheduledStart.map(Self.date), scheduledEnd: draft.scheduledEnd.map(Self.date)))
        let order = try await store.insertWorkOrder(draft, event: event)
        outbox.wake()
        try await audit(principal, auditAction, order.id, "product \(order.product), quantity \(order.quantityTarget)")
        return order
    }

    /// Applies a lifecycle action and commits the matching event to the outbox with it, then audits it.
    func transition(_ id: String, _ action: WorkOrderAction, principal: Principal?) async throws -> WorkOrder {
        guard let order = try await store.workOrder(id) else { throw APIError.notFound("work order", id) }
        let next = try WorkOrderLifecycle.apply(action, to: order.status, workOrder: id)
        let event = try Self.event(for: action, from: order).map(outboxMessage)
        try await store.transitionWorkOrder(id, from: order.status, to: next, event: event)
        if event != nil { outbox.wake() }
        try await audit(principal, "workorder.\(action.rawValue)", id, "\(order.status.rawValue) → \(next.rawValue)")
        guard let updated = try await store.workOrder(id) else { throw APIError.notFound("work order", id) }
        return updated
    }

    /// The event a lifecycle action on `order` (as it was before the action) publishes, if any. Resuming a
    /// paused order publishes nothing: `workorder.started` marks the first start only. Production does not
    /// change with the status, so `order`'s good and scrap are those at completion.
    static func event(for action: WorkOrderAction, from order: WorkOrder) -> (any ShopfloorEvent)? {
        guard let asset = ISA95Path(parsing: order.asset) else { return nil }
        let start = order.scheduledStart.flatMap(RFC3339.date(from:))
        let end = order.scheduledEnd.flatMap(RFC3339.date(from:))
        switch action {
        case .release:
            return WorkOrderReleased(workOrderId: order.id, product: order.product, quantityTarget: order.quantityTarget,
                                     asset: asset, scheduledStart: start, scheduledEnd: end)
        case .start where order.status == .released:
            return WorkOrderStarted(workOrderId: order.id, product: order.product, quantityTarget: order.quantityTarget,
                                    asset: asset, scheduledStart: start, scheduledEnd: end)
        case .start:
            return nil
        case .complete:
            return WorkOrderCompleted(workOrderId: order.id, product: order.product, quantityTarget: order.quantityTarget,
                                      asset: asset, scheduledStart: start, scheduledEnd: end,
                                      good: order.good, scrap: order.scrap)
        case .pause:
            return WorkOrderPaused(workOrderId: order.id, product: order.product, quantityTarget: order.quantityTarget,
                                   asset: asset, scheduledStart: start, scheduledEnd: end)
        case .cancel:
            return WorkOrderCancelled(workOrderId: order.id, product: order.product, quantityTarget: order.quantityTarget,
                                      asset: asset, scheduledStart: start, scheduledEnd: end)
        }
    }

    /// `event` as a CloudEvent from this instance on its UNS topic, ready for the outbox.
    func outboxMessage(_ event: any ShopfloorEvent) throws -> OutboxMessage {
        try Self.outboxMessage(event, prefix: runtime.unsPrefix, source: source)
    }

    static func outboxMessage<Event: ShopfloorEvent>(_ event: Event, prefix: String, source: String) throws -> OutboxMessage {
        let topic = try event.topic(prefix: prefix)
        let cloudEvent = event.cloudEvent(source: source)
        return OutboxMessage(id: cloudEvent.id, topic: topic.description,
                             payload: String(decoding: try cloudEvent.jsonData(), as: UTF8.self))
    }

    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
}
