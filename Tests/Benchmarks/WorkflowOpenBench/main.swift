// What one TicketOpened costs workflow: N TicketOpened events delivered over EventSink/Deliver
// (one event per call, `--concurrency` callers, as intake's relay delivers one key per call) to a
// workflow service started in this process with the time half (SLA, metrics, inactivity) on.
// Prints CPU µs per event of this process (service plus the small client side; the floor line is
// the same calls carrying an event type workflow ignores, so inbox claim + RPC only) and, on
// PostgreSQL, the server's CPU per event (its processes from pg_stat_activity) and statements
// per event from pg_stat_statements when the cluster preloads it (scripts/bench-workflow-open).
//   workflow-open-bench [--engine sqlite|postgres] [--url postgres://...] [--events 2000]
//                       [--concurrency 8] [--top 25] [--skip-migration 180]
import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization
import TestSupport
import WorkflowCore

WorkflowOpenBench.run()
