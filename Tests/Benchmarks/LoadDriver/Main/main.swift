// load-driver: opens tickets at a steady rate and moves them through the workflow over real
// services (`run`), then checks what the services and the SMTP sink hold (`verify`).
// See docs/RELIABILITY.md and docs/BENCHMARKS-production.md.
import Foundation
import LoadDriverKit

LoadDriverCommand.main(Array(CommandLine.arguments.dropFirst()))
