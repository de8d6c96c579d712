// Notification benchmark: e-mails/s to a local aiosmtpd sink and webhooks/s to a local receiver
// through the whole pipeline (events over RPC → inbox → delivery rows → lanes → libcurl), the
// lag from event to delivery (p50/p95) at a steady rate, and in the same run each peer's ceiling
// with a minimal sender (the same libcurl transport, no database). See docs/BENCHMARKS-notification.md.
//
//   swift build -c release --product notification-bench && .build/release/notification-bench [count] [rate] [lane concurrency]

NotificationBenchmark.run(arguments: CommandLine.arguments)
