// ProcessDecoder: `kernel:` and `processes:` — the scheduler, the syscall table restriction, and
// each task_struct's memory, context and files.

import Machine

extension DecodeContext {
    static let kernelKeys = ["scheduler", "syscalls", "stdin", "files", "fork"]
    static let schedulerKeys = ["policy", "timeslice", "preempt"]

    mutating func decodeKernel(_ node: YAMLNode?) -> KernelSetup {
        var k = KernelSetup()
        guard let node else { return k }
        if let s = node.scalar, node.scalarStyle == .plain, s == "none" {
            k.enabled = false
            return k
        }
        if let s = node.scalar {
            // `noen`, `None`: a misspelt `none` says so (a mapping has no spelling to suggest).
            error(node, "kernel must be `none` or a mapping, not \(describe(node))", notes: hint(s, ["none"]).map { [$0] } ?? [])
            return k
        }
        guard let m = mapping(node, "kernel", allowed: Self.kernelKeys) else { return k }
        if let n = m["scheduler"], let s = mapping(n, "kernel.scheduler", allowed: Self.schedulerKeys) {
            if let p = s["policy"], let v = choice(p, "scheduling policy", of: SchedulingPolicy.self) { k.policy = v }
            if let t = s["timeslice"], let v = uint(t, "timeslice", max: 1_000_000) {
                if v == 0 { error(t, "timeslice must be at least 1 tick") } else { k.timeslice = Int(v) }
            }
            if let p = s["preempt"], let v = bool(p, "preempt") { k.preempt = v }
        }
        if let n = m["syscalls"], let items = sequence(n, "kernel.syscalls") {
            var names: [String] = []
            for item in items {
                guard let s = string(item, "syscall name") else { continue }
                if SyscallTable.i386.number(of: s) == nil && SyscallTable.x86_64.number(of: s) == nil {
                    let served = "served: \(Self.knownSyscallNames.joined(separator: ", "))"
                    if let (table, nr) = SyscallTable.allCases.lazy.compactMap({ t in UnmodelledSyscalls.number(of: s, table: t).map { (t, $0) } }).first {
                        error(item, "kernel.syscalls: " + UnmodelledSyscalls.refusal(s, number: nr, table: table), notes: [served])
                    } else {
                        error(item, "unknown system call '\(s)': kernel.syscalls can only name the calls the model serves",
                              notes: hint(s, Self.knownSyscallNames).map { [$0] } ?? [served])
                    }
                }
                names.append(s)
            }
            k.syscalls = names
        }
        if let n = m["stdin"], let s = string(n, "kernel.stdin") { k.stdin = Array(s.utf8) }
        if let n = m["fork"], let v = choice(n, "kernel.fork mode", of: ForkMode.self) { k.fork = v }
        if let n = m["files"], let pairs = n.mapping {
            for p in pairs {
                guard let path = p.key.scalar, let contents = string(p.value, "file contents") else { continue }
                if let why = Self.fileKeyProblem(path, among: pairs.compactMap { $0.key.scalar }) {
                    error(p.key, "kernel.files: '\(path)' \(why)")
                    continue
                }
                k.files[path] = Array(contents.utf8)
            }
        } else if let n = m["files"] {
            error(n, "kernel.files must be a map from path to contents")
        }
        return k
    }

    /// Why a `kernel.files` key is not a path the kernel's walk (PathWalk.swift) can reach as written: it
    /// must be canonical (no empty, "." or ".." component, no trailing slash), each component at most
    /// NAME_MAX (255) bytes, and not both a file and the directory of another key or of a device. A relative
    /// key is a name that descriptors and open use as written (the model has no working directory).
    static func fileKeyProblem(_ path: String, among keys: [String]) -> String? {
        let parts = (path.hasPrefix("/") ? path.dropFirst() : Substring(path)).split(separator: "/", omittingEmptySubsequences: false)
        if parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            return "must be written canonically: no empty, '.' or '..' component and no trailing slash"
        }
        if parts.contains(where: { $0.utf8.count > 255 }) { return "has a component longer than NAME_MAX (255 bytes)" }
        if let other = (keys + ["/dev/null", "/dev/console", "/dev/tty"]).first(where: { $0.hasPrefix(path + "/") || path.hasPrefix($0 + "/") }) {
            return "and '\(other)' cannot both be files: one would be the other's directory"
        }
        return nil
    }

    /// The system calls the model serves, by name (for "did you mean" hints).
    static let knownSyscallNames = SyscallTable.allNames

    /// Most processes one scenario may declare (each gets page tables, a stack and a kernel stack).
    static let maxProcesses = 512
    static let processKeys = ["name", "pid", "parent", "state", "priority", "nice", "bits", "memory", "pages", "context", "files"]
    static let vmaKeys = ["segment", "start", "pages", "size", "perm", "populate", "grows_down"]

    mutating func decodeProcesses(_ node: YAMLNode?, mode: MachineMode, names: SelectorNames, declaredFiles: Set<String> = []) -> [TaskSpec]? {
        guard let node else { return nil }
        guard let items = sequence(node, "processes") else { return nil }
        if items.count > Self.maxProcesses {
            error(items[Self.maxProcesses], "processes: more than \(Self.maxProcesses) processes in one scenario")
            return nil
        }
        var tasks: [TaskSpec] = []
        var seen: [String: YAMLNode] = [:]
        var running = 0
        var firstRunning: String?
        for i in items.indices {
            let item = items[i]
            let w = "processes[\(i)]"
            guard let m = mapping(item, w, allowed: Self.processKeys) else { continue }
            guard let nn = m["name"], let name = string(nn, "\(w).name") else {
                if m["name"] == nil { error(item, "\(w) needs a name") }
                continue
            }
            if seen[name] != nil { error(nn, "two processes are named '\(name)'") }
            // `idle` names the idle task (pid 0) in `current`, `switch` and `schedule`.
            if name == "idle" { error(nn, "'idle' is the name of the idle task (pid 0): give this process another name") }
            seen[name] = nn
            var t = TaskSpec(name: name)
            if let n = m["pid"], let v = uint(n, "\(w).pid", max: 32768) {
                // pid 0 is the idle task's (Linux's swapper): user tasks start at 1.
                if v == 0 { error(n, "\(w).pid 0 is the idle task's: a process's pid is 1 to 32768") }
                t.pid = Int(v)
            }
            if let n = m["parent"] { t.parent = string(n, "\(w).parent") }
            if let n = m["state"], let s = choice(n, "task state", of: TaskState.self) {
                t.state = s
                if s == .running {
                    running += 1
                    if running > 1, let first = firstRunning {
                        error(n, "more than one process is running: '\(first)' is already `running`", notes: ["exactly one task runs at the start: give the others `state: ready` (the first `ready` one runs when none is `running`)"])
                    }
                    if firstRunning == nil { firstRunning = name }
                }
            }
            if let n = m["priority"], let v = int(n, "\(w).priority", min: -1000, max: 1000) { t.priority = Int(v) }
            if let n = m["nice"], let v = int(n, "\(w).nice", min: -20, max: 19) { t.nice = Int(v) }
            if let n = m["bits"], let v = choice(n, "bits", [("32", 32), ("64", 64)]) {
                if v == 64 && mode == .ia32 { error(n, "a 64-bit task needs mode: x86_64") }
                t.bits = v
            }
            if let n = m["memory"], let vmas = sequence(n, "\(w).memory") {
                var decoded: [VMASpec] = []
                for j in vmas.indices {
                    guard let v = vma(vmas[j], "\(w).memory[\(j)]") else { continue }
                    checkVMALayout(v, j, decoded, at: vmas[j], task: name, bits: t.bits ?? (mode == .ia32 ? 32 : 64), mode: mode)
                    decoded.append(v)
                }
                t.memory = decoded
            }
            if let n = m["pages"] { t.pages = pages(n, "\(w).pages") }
            if let n = m["context"] { context(n, "\(w).context", into: &t, names: names) }
            t.contextOrigin = origins.count
            origins.append(location(m["context"] ?? item))
            if let n = m["files"] { t.files = files(n, "\(w).files", declared: declaredFiles) }
            tasks.append(t)
        }
        // pids: the one given, else the task's place in the list (1, 2, 3...); two tasks with one pid is an
        // error at the second (the machine would refuse it without a place in the file).
        var pids: [Int: YAMLNode] = [:]
        for i in items.indices {
            let item = items[i]
            let pidNode = item.value(forKey: "pid")
            var pid = i + 1
            if let s = pidNode?.scalar, case let .value(v, false) = parseInteger(s), v <= 32768 { pid = Int(v) } else if pidNode != nil { continue }
            let at = pidNode ?? item.value(forKey: "name") ?? item
            if let first = pids[pid] {
                error(at, "processes[\(i)] has pid \(pid)\(pidNode == nil ? " (its place in the list)" : ""), as the task at \(location(first).description) has",
                      notes: ["a task without `pid` takes its place in the list (1, 2, 3...): give one of them another pid"])
            } else {
                pids[pid] = at
            }
        }
        for i in items.indices {
            let item = items[i]
            if let pn = item.value(forKey: "parent"), let p = pn.scalar, seen[p] == nil {
                error(pn, "processes[\(i)].parent '\(p)' names no process", notes: hint(p, Array(seen.keys)).map { [$0] } ?? [])
            }
        }
        checkProcessTree(items)
        if tasks.isEmpty && !hasErrors { error(node, "processes is empty: list at least one task, or omit the key") }
        return tasks
    }

    /// The `parent` keys must describe a tree, as Linux's processes do: no task is its own parent or ancestor
    /// (a cycle would leave every task of it waiting for another), and no task's parent is a zombie (an
    /// exiting task gives its children to init before it becomes a zombie: kernel/exit.c exit_notify ->
    /// forget_original_parent), so that getppid, wait and the reparenting at exit have one meaning.
    mutating func checkProcessTree(_ items: [YAMLNode]) {
        var parentOf: [String: String] = [:], stateOf: [String: String] = [:], indexOf: [String: Int] = [:]
        for i in items.indices {
            guard let name = items[i].value(forKey: "name")?.scalar, indexOf[name] == nil else { continue }
            indexOf[name] = i
            if let p = items[i].value(forKey: "parent")?.scalar { parentOf[name] = p }
            if let st = items[i].value(forKey: "state")?.scalar { stateOf[name] = st }
        }
        for i in items.indices {
            guard let name = items[i].value(forKey: "name")?.scalar, indexOf[name] == i,
                  let pn = items[i].value(forKey: "parent"), let p = pn.scalar, indexOf[p] != nil else { continue }
            if p == name {
                error(pn, "processes[\(i)].parent: '\(name)' cannot be its own parent",
                      notes: ["leave `parent` out, or name another task (`parent: init` for a child of pid 1)"])
            } else if stateOf[p] == TaskState.zombie.rawValue {
                error(pn, "processes[\(i)].parent '\(p)' is a zombie: an exited task has already given its children to init (kernel/exit.c forget_original_parent)",
                      notes: ["name a live task as the parent, or leave `parent` out"])
            } else {
                // Walk up from the parent; coming back to this task is a cycle, reported at its first task.
                var chain = [name, p]
                while let up = parentOf[chain[chain.count - 1]], !chain.dropFirst().contains(up) || up == name {
                    chain.append(up)
                    if up == name { break }
                }
                let members = chain.dropLast()
                if chain.last == name && chain.count > 2, members.allSatisfy({ (indexOf[$0] ?? i) >= i }) {
                    error(pn, "processes[\(i)].parent: the parents form a cycle (\(chain.joined(separator: " -> "))), but processes form a tree",
                          notes: ["leave `parent` out of one of them"])
                }
            }
        }
    }

    /// A process's VMAs are disjoint and lie in user space (Linux's mm keeps them in one tree below
    /// TASK_SIZE): the machine builder refuses any other layout, and this says so at the VMA's line.
    mutating func checkVMALayout(_ v: VMASpec, _ i: Int, _ before: [VMASpec], at node: YAMLNode, task: String, bits: Int, mode: MachineMode) {
        let top = LinuxLayout(mode: mode).userSpaceTop(bits: bits)
        let (end, overflow) = v.start.addingReportingOverflow(v.size)
        if overflow || end > top {
            error(node, "task \(task): memory[\(i)] (\(v.segment.rawValue) at 0x\(String(v.start, radix: 16))) reaches above the top of user space 0x\(String(top, radix: 16))")
        } else if let j = before.firstIndex(where: { $0.start < end && v.start < $0.start + $0.size }) {
            error(node, "task \(task): memory[\(i)] (\(v.segment.rawValue) at 0x\(String(v.start, radix: 16))) overlaps memory[\(j)] (\(before[j].segment.rawValue) at 0x\(String(before[j].start, radix: 16))): VMAs are disjoint")
        }
    }

    mutating func vma(_ node: YAMLNode, _ w: String) -> VMASpec? {
        guard let m = mapping(node, w, allowed: Self.vmaKeys) else { return nil }
        guard let sn = m["segment"], let seg = choice(sn, "segment", of: VMASpec.Segment.self) else {
            if m["segment"] == nil { error(node, "\(w) needs a segment (text, data, bss, heap, stack, mmap)") }
            return nil
        }
        guard let st = m["start"], let start = uint(st, "\(w).start") else {
            if m["start"] == nil { error(node, "\(w) needs a start address") }
            return nil
        }
        if start & 0xFFF != 0 { error(st, "\(w).start must be page-aligned") }
        var size: UInt64 = 0x1000
        if let p = m["pages"], let v = uint(p, "\(w).pages", max: DecodeContext.maxPagesPerMapping) { size = v * 0x1000 }
        if let s = m["size"], let v = uint(s, "\(w).size", max: DecodeContext.maxPagesPerMapping * 0x1000) { size = (v + 0xFFF) & ~0xFFF }
        if m["pages"] != nil && m["size"] != nil { error(node, "\(w): give pages or size, not both") }
        var r = true, wr = false, x = false
        switch seg {
        case .text: x = true
        case .data, .bss, .heap, .stack, .mmap: wr = true
        }
        if let pn = m["perm"], let p = string(pn, "\(w).perm") {
            let c = Array(p)
            if c.count == 3, "r-".contains(c[0]), "w-".contains(c[1]), "x-".contains(c[2]) {
                r = c[0] == "r"; wr = c[1] == "w"; x = c[2] == "x"
            } else {
                error(pn, "\(w).perm must look like \"r-x\" or \"rw-\"")
            }
        }
        let populate = m["populate"].flatMap { bool($0, "\(w).populate") } ?? false
        if populate { chargePages(size / 0x1000, m["pages"] ?? m["size"] ?? node, w) }
        let growsDown = m["grows_down"].flatMap { bool($0, "\(w).grows_down") } ?? false
        if growsDown && seg != .stack, let g = m["grows_down"] {
            error(g, "\(w).grows_down needs segment: stack (only a stack VMA grows down), this one is \(seg.rawValue)")
        }
        return VMASpec(segment: seg, start: start, size: size, read: r, write: wr, execute: x, populate: populate, growsDown: growsDown)
    }

    static let segmentNames = SegmentRegisterName.allCases.map(\.rawValue)

    /// Two names of one register in one map (`eip` and `rip`, `eax` and `rax`, `eflags` and `rflags`) are an
    /// error: one value would silently win.
    mutating func checkRegisterAliases(_ pairs: [YAMLPair], _ w: String) {
        var seen: [String: String] = [:]
        for p in pairs {
            guard let k = p.key.scalar?.lowercased() else { continue }
            let canonical: String
            switch k {
            case "rip", "eip": canonical = "rip"
            case "rflags", "eflags": canonical = "rflags"
            default:
                // Only the names the maps take (64- and 32-bit); a 16- or 8-bit name has its own error.
                guard let r = GPR(name: k), k == r.name64 || k == r.name32 else { continue }
                canonical = r.name64
            }
            if let first = seen[canonical], first != k {
                error(p.key, "\(w) gives both \(first) and \(k), which name one register: give one")
            }
            seen[canonical] = seen[canonical] ?? k
        }
    }

    mutating func context(_ node: YAMLNode, _ w: String, into t: inout TaskSpec, names: SelectorNames) {
        guard let pairs = node.mapping else { error(node, "\(w) must be a mapping of registers"); return }
        checkRegisterAliases(pairs, w)
        for p in pairs {
            guard let k = p.key.scalar?.lowercased() else { continue }
            if let s = SegmentRegisterName(rawValue: k) {
                if let v = selector(p.value, "\(w).\(k)", names: names) { t.segments[s] = v }
            } else if k == "rip" || k == "eip" {
                t.rip = uint(p.value, "\(w).\(k)")
            } else if k == "rflags" || k == "eflags" {
                if p.value.mapping != nil {
                    // A flag map, as machine.rflags: over the task's default (IF=1, IOPL=0, AC=0).
                    t.rflags = rflags(p.value, "\(w).\(k)").0.apply(to: RFLAGS.reserved1 | RFLAGS.if)
                } else {
                    t.rflags = uint(p.value, "\(w).\(k)")
                    // EFLAGS.VM = 1 would start the task in virtual-8086 mode, which the model does not have.
                    if let f = t.rflags, f & RFLAGS.vm != 0 {
                        error(p.value, "\(w).\(k): VM (bit 17) set: virtual-8086 mode is not modelled")
                    }
                }
            } else if let r = GPR(name: k) {
                if let v = uint(p.value, "\(w).\(k)") { t.registers[r] = v }
            } else {
                let all = Self.segmentNames + ["rip", "eip", "rflags", "eflags"] + GPR.allCases.map(\.name64) + GPR.allCases.map(\.name32)
                error(p.key, "unknown register '\(k)' in \(w)", notes: hint(k, all).map { [$0] } ?? [])
            }
        }
    }

    /// The terminal's names and the devices a task's descriptor may name besides `kernel.files` and paths.
    static let fileNames = ["stdin", "stdout", "stderr", "/dev/null", "/dev/console", "/dev/tty"]

    /// A descriptor's file: `stdin`/`stdout`/`stderr` (the terminal), a device, a declared file, or a path
    /// (`/...`). Any other bare name is most likely a misspelling (`stdrr`): an error with a hint.
    mutating func checkFileName(_ n: YAMLNode, _ s: String, declared: Set<String>) {
        guard !Self.fileNames.contains(s), !declared.contains(s) else { return }
        if s.hasPrefix("/") {
            // A new file the task starts with open: a path the kernel's walk can reach as written.
            if let why = Self.fileKeyProblem(s, among: Array(declared)) { error(n, "file '\(s)' \(why)") }
            return
        }
        let known = Self.fileNames + declared.sorted()
        error(n, "unknown file '\(s)'", notes: hint(s, known).map { [$0] } ?? ["a descriptor names stdin, stdout, stderr, a device (/dev/null, /dev/tty, /dev/console), a file of kernel.files, or an absolute path"])
    }

    mutating func files(_ node: YAMLNode, _ w: String, declared: Set<String> = []) -> [Int: String] {
        var out: [Int: String] = [:]
        if let items = node.sequence {
            for i in items.indices {
                // `null` keeps a place in the list for a descriptor that is not open (`[stdin, null, stderr]`).
                if items[i].isNullScalar { continue }
                if let s = string(items[i], "\(w)[\(i)]") { checkFileName(items[i], s, declared: declared); out[i] = s }
            }
        } else if let pairs = node.mapping {
            var seen = FirstKeys<UInt64>()
            for p in pairs {
                guard let fd = uint(p.key, "file descriptor", max: 1023), let s = string(p.value, "file name") else { continue }
                guard seen.isNew(fd, p.key, "file descriptor \(fd)", context: &self) else { continue }
                checkFileName(p.value, s, declared: declared)
                out[Int(fd)] = s
            }
        } else {
            error(node, "\(w) must be a list or a map from descriptor to file")
        }
        return out
    }
}
