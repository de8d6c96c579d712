@preconcurrency import Glibc
import Foundation
import Storage
import TestSupport
import WorkflowCore

/// The cost of one discussion entry as its ticket's discussion grows (`--entries N`): one ticket,
/// N entries of 400 characters added one per transaction through ``TicketLifecycle/addEntry``,
/// every fourth internal. Prints, for the 10 entries ending at 10, 100, 1000, ... (each power of
/// ten up to N), the median wall time per entry and the CPU per entry of this process plus, on
/// PostgreSQL, of the server backend that ran the transaction (`/proc/<pid>/schedstat`).
///
/// ```
/// .build/release/workflow-bench --entries 1000 --engine sqlite
/// .build/release/workflow-bench --entries 1000 --engine postgres
/// ```
struct EntryCostBench {
    let database: any Database
    let engine: DatabaseEngine
    let entries: Int

    /// Nanoseconds `pid` (or this process, for 0) has run on a CPU.
    static func cpuNanoseconds(pid: Int64) -> Int64 {
        if pid == 0 {
            var spec = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
            return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
        }
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/schedstat", encoding: .utf8),
              let first = text.split(separator: " ").first, let value = Int64(first) else { return 0 }
        return value
    }

    /// About 400 characters of Portuguese helpdesk text, different per entry.
    static func text(_ n: Int) -> String {
        let base = "Entrada \(n): o cliente informa que a nota fiscal \(n * 7 % 1000) foi rejeitada pela SEFAZ com o código 539 "
            + "após a atualização do certificado digital; reenviamos o lote \(n % 97) e o retorno continua o mesmo. Solicitamos o XML "
            + "da transmissão, o log do servidor de integração e a versão instalada do módulo Fiscal para análise da equipe de "
            + "desenvolvimento, que verificará o leiaute \(n % 13) e a cadeia de certificação."
        return String(base.prefix(400))
    }

    func run() throws {
        let flows = try database.write { tx -> [String: StageFlow] in
            try FlowStore.seed(tx)
            return try FlowStore.load(tx)
        }
        let lifecycle = TicketLifecycle(flows: flows, defaultFlow: "padrao")
        let ticketID = "bench-entries"
        try database.write { tx in
            try tx.execute("""
                INSERT INTO tickets (id, organization_id, flow, stage, stage_since, opened_at, updated_at, last_interaction_at, subject, request_text)
                VALUES (?, 'org-1', 'padrao', 'em_atendimento', 0, 0, 0, 0, 'Nota fiscal rejeitada', 'Erro 539 ao transmitir a NF-e')
                """, [.text(ticketID)])
            try tx.execute("INSERT INTO ticket_search (ticket_id, subject, request) VALUES (?, 'nota fiscal rejeitada', 'erro 539 ao transmitir a nf e')",
                           [.text(ticketID)])
        }
        let agent = Actor(kind: .agent, id: "A0007", name: "Agente 7", level: 1)
        var load = [Double](repeating: 0, count: 3)
        _ = getloadavg(&load, 3)
        print(String(format: "entries: engine %@, one ticket, %d entries of 400 characters (every fourth internal); load average %.1f %.1f %.1f",
                     engine.rawValue, entries, load[0], load[1], load[2]))
        var marks: Set<Int> = []
        var mark = 10
        while mark <= entries { marks.insert(mark); mark *= 10 }
        var walls: [Double] = [], cpus: [Int64] = [], serverCPUs: [Int64] = []
        for n in 1...entries {
            let startedWall = DispatchTime.now().uptimeNanoseconds
            let startedCPU = Self.cpuNanoseconds(pid: 0)
            var server: Int64 = 0
            try database.write { tx in
                var backend: Int64 = 0
                var backendStart: Int64 = 0
                if engine == .postgres {
                    backend = try tx.queryOne("SELECT pg_backend_pid() AS p")?.int("p") ?? 0
                    backendStart = Self.cpuNanoseconds(pid: backend)
                }
                let ticket = try lifecycle.load(tx, ticketID)
                try lifecycle.addEntry(tx, ticket, kind: "note", isPublic: n % 4 != 0, text: Self.text(n), actor: agent)
                if backend != 0 { server = Self.cpuNanoseconds(pid: backend) - backendStart }
            }
            walls.append(Double(DispatchTime.now().uptimeNanoseconds - startedWall) / 1e6)
            cpus.append(Self.cpuNanoseconds(pid: 0) - startedCPU)
            serverCPUs.append(server)
            if marks.contains(n) {
                let window = (n - 10)..<n
                let median = walls[window].sorted()[5]
                let cpu = Double(cpus[window].reduce(0, +)) / 10 / 1e6
                let serverCPU = Double(serverCPUs[window].reduce(0, +)) / 10 / 1e6
                print(String(format: "entries %4d-%4d: wall p50 %.3f ms/entry, CPU %.3f ms/entry (this process)%@", n - 9, n, median, cpu,
                             engine == .postgres ? String(format: " + %.3f ms/entry (server backend; commit not included)", serverCPU) : ""))
            }
        }
    }
}
