// Queue listing benchmark of the workflow service; see WorkflowBench.swift and docs/BENCHMARKS-workflow.md.
import Foundation

do {
    try WorkflowBench(arguments: CommandLine.arguments).run()
} catch {
    FileHandle.standardError.write(Data("workflow-bench: \(error)\n".utf8))
    exit(1)
}
