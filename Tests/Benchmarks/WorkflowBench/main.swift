// Queue listing benchmark of the workflow service; see WorkflowBench.swift and docs/BENCHMARKS-workflow.md.
@preconcurrency import Glibc
import Foundation

// One line at a time, also when the output is a file (long runs show their progress).
setvbuf(stdout, nil, _IOLBF, 0)

do {
    try WorkflowBench(arguments: CommandLine.arguments).run()
} catch {
    FileHandle.standardError.write(Data("workflow-bench: \(error)\n".utf8))
    exit(1)
}
