// `ocorre`: the command line of Ocorrências (see docs/GATEWAY.md, "CLI").
import Foundation

exit(Ocorre.main(Array(CommandLine.arguments.dropFirst())))
