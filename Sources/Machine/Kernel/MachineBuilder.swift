// MachineBuilder: turns a decoded scenario (MachineSetup, KernelSetup, TaskSpecs) into a running System —
// the preset's tables and mappings first, then the scenario's own settings on top, then the tasks.
//
// Choices (documented in the report and docs):
// - `preset: none`: GDT is [null] unless given, no IDT gates unless given, no MSRs, no kernel mappings. A
//   task's CPU state comes from its `context`; segments it does not name start flat at CPL 0 with null
//   selectors (CS/SS hidden parts flat, 64-bit CS in x86_64). CPL = the RPL of the context's CS, if given.
// - The linux preset turns CR4.PSE on in ia32 (as Linux does); PGE stays off unless the scenario sets it
//   (then the kernel mappings are global).
// - A new task's stack pointer starts 16 bytes below the top of its stack (room for a call gate's copied
//   parameters or argc/argv).

extension System {
    /// The most TSS bytes (the images of all TSS descriptors of the GDT, each up to its limit) a machine keeps:
    /// 16 MiB, room for more than 200 TSSs with a full I/O permission bit map.
    public static let tssImageBudget = 16 << 20

    /// Builds the machine, its tables and the kernel's tasks.
    public static func build(machine setup: MachineSetup, kernel ksetup: KernelSetup, tasks specs: [TaskSpec]?) throws(MachineError) -> System {
        try build(machine: setup, kernel: ksetup, tasks: specs, presetCache: true)
    }

    /// `build`, optionally without the preset cache (tests compare the two).
    static func build(machine setup: MachineSetup, kernel ksetup: KernelSetup, tasks specs: [TaskSpec]?,
                      presetCache: Bool) throws(MachineError) -> System {
        let mode = setup.mode
        let layout = LinuxLayout(mode: mode)
        let linux = setup.linuxPreset
        let paging = setup.resolvedPaging
        if mode == .x86_64 && paging != .level4 {
            throw MachineError("x86_64 (IA-32e) needs 4-level paging, not \(paging.rawValue)")
        }
        if mode == .ia32 && paging == .level4 {
            throw MachineError("4-level paging needs x86_64 mode")
        }
        // Control registers (CR0.WP on; CR4.PSE in ia32 32-bit paging; PAE whenever the paging mode needs it).
        // CR4.PAE follows the paging mode (the decoder refuses a `cr4.pae` that contradicts it); with paging
        // off it is what `cr4.pae` says (CR4.PAE = 1 with CR0.PG = 0 is a state a processor can hold).
        let cr0 = setup.cr0.apply(to: CR0.pe | CR0.et | CR0.wp | (paging == .off ? 0 : CR0.pg))
        var cr4: UInt64 = (paging == .pae || paging == .level4) ? CR4.pae : 0
        if linux && paging == .bits32 { cr4 |= CR4.pse }
        cr4 = setup.cr4.apply(to: cr4)
        switch paging {
        case .pae, .level4: cr4 |= CR4.pae
        case .bits32: cr4 &= ~CR4.pae
        case .off: break
        }
        if mode == .ia32 && cr4 & CR4.pcide != 0 {
            throw MachineError("CR4.PCIDE can only be set in IA-32e mode (SDM Vol. 3A §4.10.1), not in ia32")
        }
        let longModeBits = mode == .x86_64 ? EFER.lme | EFER.lma : 0  // as Machine.init sets them
        let efer = (setup.efer.apply(to: longModeBits | (linux ? EFER.sce | EFER.nxe : 0)) & ~(EFER.lme | EFER.lma)) | longModeBits
        let pkru = setup.pkru ?? CPUState().pkru
        let pse = cr4 & CR4.pse != 0, nxe = efer & EFER.nxe != 0 && paging != .bits32, pge = cr4 & CR4.pge != 0
        /// The machine before the preset: built only when the preset is not taken from the cache.
        func bareMachine() -> Machine {
            var m = Machine(mode: mode, vendor: setup.vendor, pagingMode: paging, paging: PagingUnit())
            m.cpu.cr0 = cr0
            m.cpu.cr4 = cr4
            m.cpu.efer = efer
            m.cpu.pkru = pkru
            return m
        }

        // The preset part: from the cache when nothing of the scenario reaches into it.
        let preset: PresetState
        if presetCache && linux && setup.pages.isEmpty {
            let key = PresetKey(mode: mode, vendor: setup.vendor, paging: paging, cr0: cr0, cr4: cr4, efer: efer, pkru: pkru)
            preset = try PresetCache.state(for: key) { () throws(MachineError) -> PresetState in
                try presetState(bareMachine(), layout: layout, linux: linux, pages: [], pse: pse, nxe: nxe, pge: pge)
            }
        } else {
            preset = try presetState(bareMachine(), layout: layout, linux: linux, pages: setup.pages, pse: pse, nxe: nxe, pge: pge)
        }
        var sys = preset.system
        let istTops = preset.istTops
        // Room for the tasks' page tables and kernel stacks (and the first demand-paged frames): the byte
        // store is copied from the preset's once, not again at every doubling (at most 1 MiB ahead).
        sys.machine.paging.memory.reserve(frames: min(8 * (specs?.count ?? 1) + 8, 256))
        sys.core.setup = ksetup
        sys.core.fileContents = ksetup.files

        if let g = setup.gdt {
            switch g {
            case let .replace(list):
                var words = Array(repeating: UInt64(0), count: max(list.count, 1))
                System.place(list.enumerated().map { ($0.offset, $0.element) }, into: &words)
                sys.machine.gdt = words
            case let .patch(map):
                var words = sys.machine.gdt
                System.place(map.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, into: &words)
                sys.machine.gdt = words
            }
        }
        if !setup.idt.isEmpty {
            var words = sys.machine.idt
            let stride = mode == .ia32 ? 1 : 2
            for (v, e) in setup.idt.sorted(by: { $0.key < $1.key }) {
                let slot = v * stride
                if words.count < slot + stride { words += Array(repeating: 0, count: slot + stride - words.count) }
                words[slot] = e.low
                if stride == 2 { words[slot + 1] = e.high ?? 0 }
            }
            sys.machine.idt = words
        }
        if let ldt = setup.ldt {
            let ldtSlots = sys.machine.gdt.indices.filter {
                let d = Descriptor(raw: sys.machine.gdt[$0])
                return !d.isCodeOrData && d.systemType == .ldt && d.raw != 0
            }
            guard ldtSlots.count == 1, let slot = ldtSlots.first else {
                throw MachineError("machine.ldt needs exactly one LDT descriptor in the GDT (found \(ldtSlots.count))")
            }
            let d = Descriptor(raw: sys.machine.gdt[slot])
            var base = d.base
            if mode == .x86_64 {
                let high = try Self.wideUpperHalf(sys.machine.gdt, slot, what: "the LDT descriptor", loadedBy: "LLDT")
                base |= WideDescriptor.upperBase(high)
            }
            var words = Array(repeating: UInt64(0), count: max(ldt.count, 1))
            System.place(ldt.enumerated().map { ($0.offset, $0.element) }, into: &words)
            sys.machine.ldtTables[base] = words
            var cache = d.cache
            cache.base = base
            sys.machine.cpu.ldtr = SegmentRegister(selector: UInt16(slot << 3), cache: cache)
        }
        for (n, v) in setup.msrs.sorted(by: { $0.key < $1.key }) { sys.machine.editMSR(n, v) }
        sys.core.manageSysenterESP = linux && setup.msrs[MSR.sysenterESP] == nil

        // Tasks.
        let list = specs ?? [TaskSpec(name: "main")]
        var usedPids = Set<Int64>()
        for (i, spec) in list.enumerated() {
            let pid = Int64(spec.pid ?? (i + 1))
            guard !usedPids.contains(pid) else { throw MachineError("two tasks have pid \(pid)") }
            usedPids.insert(pid)
            try sys.createInitialTask(spec, pid: pid)
        }
        // cfs: exact vruntime in units every task's per-tick increase divides (VirtualRuntime).
        let scale = VirtualRuntime.scale(forNice: sys.core.tasks.map(\.nice))
        for i in sys.core.tasks.indices { sys.core.tasks[i].vruntime = VirtualRuntime(scale: scale) }
        // Parents.
        for (i, spec) in list.enumerated() {
            guard let pname = spec.parent else { continue }
            guard let p = sys.core.tasks.firstIndex(where: { $0.name == pname && !$0.isIdle }) else {
                throw MachineError("task \(spec.name): parent \(pname) is not a task")
            }
            sys.core.tasks[i + 1].parent = sys.core.tasks[p].pid
            sys.core.tasks[p].children.append(sys.core.tasks[i + 1].pid)
        }
        // The running task: exactly one `running`, or the first `ready`; none -> idle.
        let running = list.indices.filter { list[$0].state == .running }
        if running.count > 1 { throw MachineError("more than one task is running: \(running.map { list[$0].name })") }
        var first: Int? = running.first.map { $0 + 1 }
        if first == nil { first = sys.core.tasks.indices.first { $0 > 0 && sys.core.tasks[$0].state == .ready } }
        for i in sys.core.tasks.indices where i > 0 && sys.core.tasks[i].state == .ready && i != first {
            sys.core.runQueue.append(i)
        }
        let cur = first ?? 0
        sys.core.current = cur
        sys.core.tasks[cur].state = .running
        sys.core.dispatchOrder = [sys.core.tasks[cur].name]
        sys.machine.taskName = sys.core.tasks[cur].name
        let curTask = sys.core.tasks[cur]
        // CPU state: the running task's registers (user mode), or the idle loop.
        if cur == 0 {
            sys.core.tasks[0].kernelContext?.restore(into: &sys.machine.cpu)
            sys.core.tasks[0].kernelContext = nil
            sys.machine.cpu.cr3 = sys.core.templateCR3 ?? 0
        } else {
            curTask.userContext.restore(into: &sys.machine.cpu)
            sys.machine.cpu.rflags = setup.rflags.apply(to: sys.machine.cpu.rflags) | RFLAGS.reserved1
            if let iopl = setup.iopl { sys.machine.cpu.rflags = (sys.machine.cpu.rflags & ~RFLAGS.iopl) | (UInt64(iopl & 3) << 12) }
            sys.machine.cpu.cr3 = curTask.cr3
            sys.core.tasks[cur].kernelContext = nil
            sys.core.tasks[cur].returnPath = .none
        }
        if paging == .pae {
            do throws(Fault) { try sys.machine.paging.loadPDPTEs(cr3: sys.machine.cpu.cr3) } catch {
                var failure = MachineError("loading the PDPTEs of CR3 0x\(String(sys.machine.cpu.cr3, radix: 16)) faulted: \(error)")
                // Only a mapping's `pdpte: {reserved: true}` puts a reserved bit in a present PDPTE: the
                // error points at it (the running task's own mappings, then `machine.pages`).
                failure.origin = (curTask.pages + setup.pages).first {
                    $0.pdpte?.reserved == true && $0.pdpte?.present != false
                }?.origin
                throw failure
            }
        }
        if sys.core.manageSysenterESP {
            sys.machine.storeMSR(MSR.sysenterESP, sys.core.tasks[cur].kernelStackTop)
        }

        // TSS images and TR.
        let trIndex = setup.tssIndex ?? sys.findTSS(preferred: linux ? layout.tssIndex : nil)
        var tssImageBytes = 0
        for (i, w) in sys.machine.gdt.enumerated() {
            var d = Descriptor(raw: w)
            guard !d.isCodeOrData, let t = d.systemType, [.tssAvailable, .tssBusy].contains(t) else { continue }
            if i > 0, mode == .x86_64, Descriptor(raw: sys.machine.gdt[i - 1]).systemType.map({ [.tssAvailable, .tssBusy].contains($0) }) == true,
               !Descriptor(raw: sys.machine.gdt[i - 1]).isCodeOrData { continue }
            var base = d.base
            let loaded = i == trIndex
            if mode == .x86_64 {
                if loaded {
                    base |= WideDescriptor.upperBase(try Self.wideUpperHalf(sys.machine.gdt, i, what: "the TSS descriptor TR is loaded with", loadedBy: "LTR"))
                } else if i + 1 < sys.machine.gdt.count {
                    base |= WideDescriptor.upperBase(sys.machine.gdt[i + 1])
                }
            }
            let entry = sys.entryTSS(setup, index: i)
            var fields = entry?.tssFields ?? [:]
            if loaded { fields.merge(setup.tssFields) { $1 } }
            // `io_ports`: the I/O permission bit map at `iomap` (default: after the fixed part), and a limit that
            // ends on its trailing byte unless the scenario gave one (PRIV-4).
            var ioMap: (base: Int, bytes: [UInt8])?
            if let ports = (loaded ? setup.tssIOPorts : nil) ?? entry?.ioPorts {
                let mapBase = Int(fields["iomap"] ?? UInt64(IOPermissionMap.defaultBase))
                guard mapBase >= IOPermissionMap.defaultBase, mapBase <= 0xFFFF else {
                    throw MachineError("gdt[\(i)]: the I/O permission bit map io_ports builds at iomap 0x\(String(mapBase, radix: 16)) would overwrite the TSS's own fields (offsets 0-0x67); put it at 0x68 to 0xffff")
                }
                fields["iomap"] = UInt64(mapBase)
                ioMap = (mapBase, IOPermissionMap.bytes(granting: ports))
                if !(entry?.limitGiven ?? false) {
                    let limit = IOPermissionMap.limit(mapBase: mapBase)
                    // Byte granularity (G = 0): the limit is the map's trailing byte, at most 0xffff + 0x2000.
                    d.setByteLimit(limit)
                    sys.machine.gdt[i] = d.raw
                }
            }
            let size = max(Int(d.limit) + 1, 0x68)
            // Each image is kept whole, and every data access looks through all of them (TSSAlias): their bytes
            // together are bounded, so that a GDT of thousands of large TSS descriptors is refused, not built
            // (8,000 of them took 600 MB and most of a second per memory access; docs/reliability.md, seventh run).
            tssImageBytes += max(min(size, IOPermissionMap.largestImage), (ioMap?.base ?? 0) + (ioMap?.bytes.count ?? 0))
            guard tssImageBytes <= Self.tssImageBudget else {
                throw MachineError("gdt[\(i)]: the TSS descriptors of the GDT cover more than \(Self.tssImageBudget / 0x100000) MiB of TSS bytes in all (the model keeps each TSS's bytes up to its limit); give fewer TSS descriptors or smaller limits")
            }
            var image = [UInt8](repeating: 0, count: min(size, IOPermissionMap.largestImage))
            // The preset's fields first, then the scenario's by name (the GDT entry's, then `machine.tss`).
            if mode == .ia32 {
                Machine.store(sys.machine.cpu.cr3, offset: TSS32.cr3, size: 4, into: &image)
                Machine.store(2, offset: TSS32.eflags, size: 4, into: &image)
                if loaded && linux {
                    Machine.store(UInt64(layout.kernelDS), offset: TSS32.ss0, size: 2, into: &image)
                    Machine.store(sys.core.tasks[cur].kernelStackTop, offset: TSS32.esp0, size: 4, into: &image)
                    Machine.store(0x68, offset: TSS32.iomap + 2, size: 2, into: &image)
                }
            } else if loaded && linux {
                Machine.store(sys.core.tasks[cur].kernelStackTop, offset: TSS64.rsp(0), size: 8, into: &image)
                Machine.store(0x68, offset: TSS64.iomap, size: 2, into: &image)
                for (ist, top) in istTops { Machine.store(top, offset: TSS64.ist(Int(ist)), size: 8, into: &image) }
            }
            for (name, v) in fields {
                guard let f = TSSFields.offset(name, is64: mode == .x86_64) else {
                    throw MachineError("unknown TSS field \(name)")
                }
                Machine.store(v, offset: f.offset, size: f.size, into: &image)
            }
            if let ioMap {
                if image.count < ioMap.base + ioMap.bytes.count { image += [UInt8](repeating: 0, count: ioMap.base + ioMap.bytes.count - image.count) }
                image.replaceSubrange(ioMap.base..<(ioMap.base + ioMap.bytes.count), with: ioMap.bytes)
            }
            sys.machine.tssImages[base] = image
            if loaded {
                // TR is loaded as LTR loads it, which marks the TSS descriptor busy (SDM Vol. 2A LTR; Vol. 3A
                // §7.2.4): the running task's TSS is busy, so a JMP or CALL to it is #GP (TASK-2).
                var busy = d
                busy.raw |= UInt64(0x2) << 40
                sys.machine.gdt[i] = busy.raw
                var cache = busy.cache
                cache.base = base
                sys.machine.cpu.tr = SegmentRegister(selector: UInt16(i << 3), cache: cache)
            }
        }
        sys.core.manageTSSStack = linux && setup.tssFields["esp0"] == nil && setup.tssFields["rsp0"] == nil
        if !ksetup.enabled { sys.kernel = nil }
        return sys
    }

    /// The upper half of the 16-byte system descriptor at `gdt[slot]` that LDTR or TR starts loaded with. LTR and
    /// LLDT in IA-32e mode read it and refuse, with #GP(selector), one beyond the GDT limit or whose type field is
    /// not 0 (WideDescriptor): no instruction loads such a descriptor, so the scenario is refused, not run on a
    /// base made of whatever the next entry holds.
    static func wideUpperHalf(_ gdt: [UInt64], _ slot: Int, what: String, loadedBy: String) throws(MachineError) -> UInt64 {
        guard slot + 1 < gdt.count else {
            throw MachineError("gdt[\(slot)]: the upper half of \(what) lies beyond the GDT limit; \(loadedBy) refuses it with #GP(selector) in IA-32e mode")
        }
        let high = gdt[slot + 1]
        guard WideDescriptor.upperType(high) == 0 else {
            throw MachineError("gdt[\(slot)]: \(what) is 16 bytes in IA-32e mode, and its upper half (gdt[\(slot + 1)]) has type 0x\(String(WideDescriptor.upperType(high), radix: 16)), not 0; \(loadedBy) refuses it with #GP(selector) (SDM Vol. 3A Figure 7-4)")
        }
        return high
    }

    /// The preset part of a build, before the scenario's tables, MSRs and tasks: the kernel half of every
    /// address space (with the kernel-half `pages`), the idle task and, in x86_64, the IST stacks; the
    /// preset GDT and IDT. Without the linux preset: the bare machine with only the idle task.
    static func presetState(_ m: Machine, layout: LinuxLayout, linux: Bool, pages: [PageMapping],
                            pse: Bool, nxe: Bool, pge: Bool) throws(MachineError) -> PresetState {
        let mode = m.mode, paging = m.pagingMode
        var k = Kernel(layout: layout, setup: KernelSetup(), presetActive: linux)
        k.directMapSize = linux ? layout.directMapSize(paging: paging, pse: pse) : 0
        var sys = System(machine: m, kernel: k)

        // Kernel half: built once in a template, shared into every address space (LNX-5).
        if linux && paging != .off {
            let t = try sys.machine.paging.createAddressSpace(mode: paging)
            for mapping in layout.presetKernelMappings(paging: paging, pse: pse, nxe: nxe, pge: pge) {
                try sys.machine.paging.map(mapping, cr3: t, mode: paging, pse: pse, nxe: nxe)
            }
            sys.core.templateCR3 = t
        }
        for p in pages {
            if linux, let t = sys.core.templateCR3, p.virt >= layout.kernelHalfStart {
                try sys.machine.paging.map(p, cr3: t, mode: paging, pse: pse, nxe: sys.scenarioNXE)
            } else {
                sys.core.sharedPages.append(p)
            }
        }
        // The idle task and, in x86_64, the IST stacks: their mappings also create the kernel-stack area's
        // page tables in the template before any address space copies the kernel half.
        var idle = Task(pid: 0, name: "idle", parent: 0, state: .ready, priority: Int.min, nice: 0,
                        bits: mode == .ia32 ? 32 : 64, vmas: [], pages: [], cr3: sys.core.templateCR3 ?? 0,
                        userContext: TaskContext(CPUState()), kernelStackBase: 0, kernelStackSize: layout.threadSize,
                        files: [:], brk: 0)
        if linux {
            idle.kernelStackBase = try sys.allocateKernelStack()
            sys.writeThreadInfo(idle)
            var ctx = CPUState()
            sys.enterKernelSegments(&ctx)
            if mode == .ia32 {
                // i386 Linux runs kernel code with DS = ES = __USER_DS (head_32.S: "DS/ES contains default
                // USER segment"; the entry code loads it too), so the idle task's data accesses go through
                // a flat segment, not a null selector. 64-bit mode does not use DS/ES (null is fine there).
                let userData = SegmentRegister(selector: layout.userDS, cache: .flat(code: false, dpl: 3))
                ctx.ds = userData
                ctx.es = userData
            }
            ctx.rip = layout.idleLoop
            ctx[.rsp] = idle.kernelStackTop - 16  // inside its stack: sp & ~(THREAD_SIZE-1) finds thread_info
            ctx.rflags = RFLAGS.reserved1 | RFLAGS.if
            idle.kernelContext = TaskContext(ctx)
        }
        sys.core.tasks = [idle]
        var istTops: [UInt8: UInt64] = [:]
        if linux && mode == .x86_64 {
            for ist in LinuxLayout.istOfVector.values.sorted() {
                istTops[ist] = try sys.allocateKernelStack(size: 0x1000) + 0x1000
            }
        }

        // Descriptor tables and MSRs (the scenario's own come after them, in `build`).
        if linux {
            sys.machine.gdt = layout.presetGDT()
            sys.machine.idt = layout.presetIDT()
            for (n, v) in layout.presetMSRs(kernelStackTop: idle.kernelStackTop) { sys.machine.storeMSR(n, v) }
        }
        return PresetState(system: sys, istTops: istTops)
    }

    /// Writes table entries (a 16-byte entry takes its slot and the next) into raw words, growing them.
    /// An empty entry on the upper half of a 16-byte entry placed before it leaves that half alone.
    static func place(_ entries: [(Int, TableEntry?)], into words: inout [UInt64]) {
        var upperHalves = Set<Int>()
        for (i, e) in entries {
            if e == nil && upperHalves.contains(i) { continue }
            if e?.high != nil { upperHalves.insert(i + 1) }
            let need = i + ((e?.high != nil) ? 2 : 1)
            if words.count < need { words += Array(repeating: 0, count: need - words.count) }
            words[i] = e?.low ?? 0
            if let h = e?.high { words[i + 1] = h }
        }
    }

    /// The GDT slot of the TSS to load: the preferred one when it holds a TSS, else the first TSS descriptor.
    func findTSS(preferred: Int?) -> Int? {
        func isTSS(_ i: Int) -> Bool {
            guard i < machine.gdt.count else { return false }
            let d = Descriptor(raw: machine.gdt[i])
            return !d.isCodeOrData && (d.systemType == .tssAvailable || d.systemType == .tssBusy)
        }
        if let p = preferred, isTSS(p) { return p }
        return machine.gdt.indices.first(where: isTSS)
    }

    /// The scenario's own entry at `index` of the GDT (nil where the preset's entry stands).
    func entryTSS(_ setup: MachineSetup, index: Int) -> TableEntry? {
        guard let g = setup.gdt else { return nil }
        switch g {
        case let .replace(list): return index < list.count ? list[index] : nil
        case let .patch(map): return map[index] ?? nil
        }
    }

    /// Kernel-mode segment registers (kernel CS/SS; data segments as Linux leaves them).
    func enterKernelSegments(_ cpu: inout CPUState) {
        let l = core.layout
        guard let cs = machine.descriptor(Selector(l.kernelCS)), let ds = machine.descriptor(Selector(l.kernelDS)) else {
            cpu.cs = SegmentRegister(selector: l.kernelCS, cache: .flat(code: true, dpl: 0, long: machine.longMode))
            cpu.ss = SegmentRegister(selector: l.kernelDS, cache: .flat(code: false, dpl: 0))
            cpu.cpl = 0
            return
        }
        var csCache = cs.cache
        if !machine.longMode { csCache.long = false }
        cpu.cs = SegmentRegister(selector: l.kernelCS, cache: csCache)
        cpu.ss = SegmentRegister(selector: l.kernelDS, cache: ds.cache)
        cpu.cpl = 0
    }

    // MARK: Address spaces and stacks

    /// The paging settings the kernel maps with; `nxe` is false in 32-bit paging (its entries have no XD bit),
    /// so the kernel never asks for XD bits the paging mode or EFER.NXE would not honour.
    var pagingControlForKernel: (mode: PagingMode, pse: Bool, nxe: Bool) {
        let mode = machine.pagingMode
        return (mode, machine.cpu.cr4 & CR4.pse != 0, machine.cpu.efer & EFER.nxe != 0 && mode != .bits32 && mode != .off)
    }

    /// EFER.NXE as the scenario left it: its own mappings are written exactly as asked (an `nx` with NXE off
    /// then faults as a reserved bit, which is what such a scenario tests).
    var scenarioNXE: Bool { machine.cpu.efer & EFER.nxe != 0 }

    /// A new address space: the shared kernel half plus `machine.pages`.
    mutating func newAddressSpace() throws(MachineError) -> UInt64 {
        let c = pagingControlForKernel
        guard c.mode != .off else { return 0 }
        let cr3 = try machine.paging.createAddressSpace(mode: c.mode)
        if let t = core.templateCR3 { try machine.paging.shareUpperHalf(from: t, into: cr3, mode: c.mode) }
        for p in core.sharedPages { try machine.paging.map(p, cr3: cr3, mode: c.mode, pse: c.pse, nxe: scenarioNXE) }
        return cr3
    }

    /// Allocates a kernel stack (THREAD_SIZE unless given) and returns its base. The frames are a contiguous,
    /// THREAD_SIZE-aligned run, so the stack is reached through the direct map with no new page-table entry
    /// (and `current` is found by masking the stack pointer, LNX-6). When the run falls outside the direct map
    /// (ia32 without PSE maps only 64 KiB of it), the frames are mapped in the kernel-stack area of the shared
    /// kernel half instead (vmalloc'd stacks, CONFIG_VMAP_STACK).
    mutating func allocateKernelStack(size: UInt64? = nil) throws(MachineError) -> UInt64 {
        let l = core.layout
        let bytes = size ?? l.threadSize
        let count = bytes / 0x1000
        let c = pagingControlForKernel
        var first = try machine.paging.memory.allocateDataFrame()
        var skipped = 0
        while first % bytes != 0 && skipped < Int(count) {
            first = try machine.paging.memory.allocateDataFrame()
            skipped += 1
        }
        var contiguous = first % bytes == 0
        for i in 1..<max(count, 1) {
            let f = try machine.paging.memory.allocateDataFrame()
            if f != first + i * 0x1000 { contiguous = false }
        }
        guard c.mode != .off, let t = core.templateCR3 else { return first }
        if contiguous && first + bytes <= core.directMapSize { return l.directMapBase + first }
        let slot = core.nextStackSlot
        core.nextStackSlot += 1
        let virt = l.kernelStackArea + UInt64(slot) * 0x8000  // a guard gap after every stack
        try machine.paging.map(PageMapping(virt: virt, phys: contiguous ? first : nil, count: count, size: .size4K,
                                           leaf: EntryFlags(present: true, writable: true, user: false, nx: c.nxe)),
                               cr3: t, mode: c.mode, pse: c.pse, nxe: c.nxe)
        return virt
    }

    /// Writes thread_info at the base of a task's kernel stack: the task's pid (standing for its task pointer).
    mutating func writeThreadInfo(_ task: Task) {
        guard core.presetActive else { return }
        _ = poke(task.kernelStackBase, value: UInt64(bitPattern: task.pid), size: 8, cr3: core.templateCR3 ?? task.cr3)
    }

    /// `current` as the kernel finds it from a kernel stack pointer: thread_info at sp & ~(THREAD_SIZE - 1).
    public func taskOwningKernelStack(_ sp: UInt64) -> String? {
        let base = sp & ~(core.layout.threadSize - 1)
        guard let raw = peekBytes(base, count: 8, cr3: core.templateCR3 ?? machine.cpu.cr3) else { return nil }
        let pid = Int64(bitPattern: raw.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        return core.tasks.first { $0.pid == pid && $0.kernelStackBase == base }?.name
    }

    /// The physical address of a linear address in an address space, when mapped (no trace, no A/D update).
    func physical(of linear: UInt64, cr3: UInt64) -> UInt64? {
        let c = pagingControlForKernel
        if c.mode == .off { return linear & 0xFFFF_FFFF }
        guard let leaf = machine.paging.leaf(for: linear, cr3: cr3, mode: c.mode, pse: c.pse), leaf.value & 1 != 0 else { return nil }
        // PG-1: a 4 MiB PDE keeps PA 39:32 in bits 20:13 (PSE-36).
        let frame = machine.paging.frameOfLeaf(leaf.value, mode: c.mode, large: leaf.pageSize != 0x1000, size: leaf.pageSize)
        return frame | (linear & (leaf.pageSize - 1))
    }

    /// Writes bytes at a linear address of an address space, as the kernel does (no faults, no trace).
    mutating func pokeBytes(_ linear: UInt64, _ bytes: [UInt8], cr3: UInt64) -> Bool {
        // One walk per 4 KiB page touched (a page's bytes share a translation), not one per byte.
        var page: UInt64 = 1, frame: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            let la = linear &+ UInt64(i)
            if la & ~0xFFF != page {
                guard let pa = physical(of: la, cr3: cr3) else { return false }
                page = la & ~0xFFF
                frame = pa &- (la & 0xFFF)
            }
            machine.paging.memory.write(frame &+ (la & 0xFFF), value: UInt64(b), size: 1)
        }
        return true
    }

    /// Writes the low `size` bytes (1, 2, 4 or 8) of `value` at a linear address of an address space, as
    /// `pokeBytes` does: one walk and one write when they lie in one page.
    mutating func poke(_ linear: UInt64, value: UInt64, size: Int, cr3: UInt64) -> Bool {
        guard (linear & 0xFFF) + UInt64(size) <= 0x1000 else {
            return pokeBytes(linear, (0..<size).map { UInt8((value >> (8 * UInt64($0))) & 0xFF) }, cr3: cr3)
        }
        guard let pa = physical(of: linear, cr3: cr3) else { return false }
        machine.paging.memory.write(pa, value: value, size: size)
        return true
    }

    func peekBytes(_ linear: UInt64, count: Int, cr3: UInt64) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var page: UInt64 = 1, frame: UInt64 = 0
        for i in 0..<count {
            let la = linear &+ UInt64(i)
            if la & ~0xFFF != page {
                guard let pa = physical(of: la, cr3: cr3) else { return nil }
                page = la & ~0xFFF
                frame = pa &- (la & 0xFFF)
            }
            out.append(UInt8(machine.paging.memory.read(frame &+ (la & 0xFFF), size: 1) & 0xFF))
        }
        return out
    }

    /// Maps a VMA's pages (user; writable and executable per its permissions). A VMA with no permission at all
    /// ("---", PROT_NONE) gets no pages: Linux's populate_vma_page_range skips it (mm/gup.c), and its PTEs
    /// would never allow an access anyway, so every touch stays a fault outside the VMA's rights (SIGSEGV).
    /// `sparing`: mappings the scenario wrote (`machine.pages`) that this VMA must not replace. The default layout
    /// is the engine's choice and `machine.pages` the author's, "present in every address space": where they
    /// meet, the author's page (and its flags, or its large page) stays, and only the pages no such mapping
    /// covers are populated.
    mutating func populate(_ vma: VMA, cr3: UInt64, sparing kept: [PageMapping] = []) throws(MachineError) {
        let c = pagingControlForKernel
        guard c.mode != .off, vma.end > vma.start, vma.accessible else { return }
        let first = vma.start & ~0xFFF
        let count = (vma.end - first + 0xFFF) / 0x1000
        func isKept(_ page: UInt64) -> Bool {
            kept.contains { page >= $0.virt && page - $0.virt < $0.count.multipliedReportingOverflow(by: $0.size.bytes).partialValue }
        }
        var i: UInt64 = 0
        while i < count {
            let page = first + i * 0x1000
            if isKept(page) { i += 1; continue }
            // The run of pages up to the next kept mapping, found from the mappings rather than page by
            // page: an mmap(MAP_POPULATE) of 0x700000000000 bytes (2^35 pages) spent minutes counting
            // its run, in one step, where the time limit cannot stop it; now mapping it fails as soon as
            // the frames run out (-ENOMEM).
            let nextKept = kept.lazy.map(\.virt).filter { $0 > page }.min()
            let end = nextKept.map { Swift.min(count, ($0 - first) / 0x1000) } ?? count
            let run = Swift.max(1, end - i)
            try machine.paging.map(PageMapping(virt: page, phys: nil, count: run, size: .size4K,
                                               leaf: EntryFlags(present: true, writable: vma.write, user: true, nx: !vma.execute && c.nxe)),
                                   cr3: cr3, mode: c.mode, pse: c.pse, nxe: c.nxe)
            i += run
        }
    }

    // MARK: Tasks at the start

    mutating func createInitialTask(_ spec: TaskSpec, pid: Int64) throws(MachineError) {
        let l = core.layout
        let mode = machine.mode
        let bits = spec.bits ?? (mode == .ia32 ? 32 : 64)
        guard bits == 32 || bits == 64 else { throw MachineError("task \(spec.name): bits must be 32 or 64") }
        if mode == .ia32 && bits == 64 { throw MachineError("task \(spec.name): a 64-bit task needs x86_64 mode") }
        let cr3 = try newAddressSpace()
        let c = pagingControlForKernel
        var vmas: [VMA] = []
        if let mem = spec.memory {
            // A process's VMAs are disjoint and lie in user space (Linux's mm keeps them in one tree below
            // TASK_SIZE); populating one above it would map user pages into the kernel half all tasks share.
            let top = l.userSpaceTop(bits: bits)
            for (i, v) in mem.enumerated() {
                let (end, overflow) = v.start.addingReportingOverflow(v.size)
                if overflow || end > top {
                    throw MachineError("task \(spec.name): memory[\(i)] (\(v.segment.rawValue) at 0x\(String(v.start, radix: 16))) reaches above the top of user space 0x\(String(top, radix: 16))")
                }
                if let j = mem[..<i].firstIndex(where: { $0.start < end && v.start < $0.start + $0.size }) {
                    throw MachineError("task \(spec.name): memory[\(i)] (\(v.segment.rawValue) at 0x\(String(v.start, radix: 16))) overlaps memory[\(j)] (\(mem[j].segment.rawValue) at 0x\(String(mem[j].start, radix: 16))): VMAs are disjoint")
                }
            }
            for v in mem {
                var vma = VMA(segment: v.segment, start: v.start, end: v.start + v.size, read: v.read, write: v.write, execute: v.execute)
                vma.growsDown = v.growsDown
                vmas.append(vma)
                if v.populate { try populate(vma, cr3: cr3) }
            }
        } else {
            let text = l.defaultTextBase(bits: bits)
            vmas = [VMA(segment: .text, start: text, end: text + 0x1000, read: true, write: false, execute: true),
                    VMA(segment: .stack, start: l.userSpaceTop(bits: bits) - 0x2000, end: l.userSpaceTop(bits: bits),
                        read: true, write: true, execute: false)]
            for v in vmas { try populate(v, cr3: cr3, sparing: core.sharedPages) }
        }
        // The task's explicit `pages` come last: where they overlap a VMA populated above, they are the mapping.
        for p in spec.pages where c.mode != .off { try machine.paging.map(p, cr3: cr3, mode: c.mode, pse: c.pse, nxe: scenarioNXE) }
        let brk = ((vmas.filter { $0.segment != .stack && $0.segment != .mmap }.map(\.end).max() ?? 0) + 0xFFF) & ~0xFFF
        // User context.
        var cpu = CPUState()
        let linux = core.presetActive
        // The selectors: the task's own, else the preset's user selectors (none without the preset).
        let userCS = (mode == .x86_64 && bits == 32) ? (l.user32CS ?? l.userCS) : l.userCS
        func selector(_ r: SegmentRegisterName) -> UInt16? {
            if !spec.segments.isEmpty, let own = spec.segments[r] { return own }
            guard linux else { return nil }
            switch r {
            case .cs: return userCS
            case .ss, .ds, .es: return l.userDS
            case .fs, .gs: return 0
            }
        }
        cpu.cpl = selector(.cs).map { UInt8($0 & 3) } ?? 0
        // An SS the context does not name starts as the flat ring-0 stack of a CPU that never left CPL 0
        // (docs/kernel-model.md); with a CS at CPL 1-3 that is a state no processor reaches (SS.RPL = SS.DPL =
        // CPL, SEG-6), and stack pushes would go through a ring-0 SS at CPL 3. Refused, with what to write.
        if selector(.ss) == nil, cpu.cpl != 0, let cs = selector(.cs) {
            var e = MachineError("task \(spec.name): context gives cs 0x\(String(cs, radix: 16)) (CPL \(cpu.cpl)) but no ss; SS's RPL and DPL are the CPL (SEG-6): write `ss:` with a writable data segment of DPL \(cpu.cpl), as in `ss: NAME:\(cpu.cpl)`")
            e.origin = spec.contextOrigin
            throw e
        }
        cpu.cs = SegmentRegister(selector: 0, cache: .flat(code: true, dpl: 0, long: mode == .x86_64 && bits == 64))
        cpu.ss = SegmentRegister(selector: 0, cache: .flat(code: false, dpl: 0))
        for r in SegmentRegisterName.allCases {
            guard let sel = selector(r) else { continue }
            cpu[segment: r] = try segmentFor(r, sel, task: spec.name)
        }
        let textStart = vmas.first(where: { $0.segment == .text })?.start ?? 0
        let stackTop = vmas.filter { $0.segment == .stack }.map(\.end).max()
        cpu.rip = spec.rip ?? textStart
        cpu[.rsp] = stackTop.map { $0 - LinuxLayout.initialStackGap } ?? 0
        for (r, v) in spec.registers { cpu[r] = v }
        do {
            try StartingContext.validate(task: spec.name, cs: cpu.cs, ss: cpu.ss, rip: cpu.rip, bits: spec.bits,
                                         longMode: machine.longMode)
        } catch {
            var e = error
            e.origin = spec.contextOrigin
            throw e
        }
        cpu.rflags = (spec.rflags ?? (RFLAGS.reserved1 | RFLAGS.if)) | RFLAGS.reserved1
        var files: [Int: OpenFile] = [:]
        for (fd, path) in spec.files.sorted(by: { $0.key < $1.key }) {
            var f = OpenFile(path: path)
            f.description = core.nextFileDescription
            core.fileOffsets[core.nextFileDescription] = 0
            core.nextFileDescription += 1
            files[fd] = f
        }
        var task = Task(pid: pid, name: spec.name, parent: 0, state: spec.state ?? .ready, priority: spec.priority,
                        nice: spec.nice, bits: bits, vmas: vmas, pages: spec.pages, cr3: cr3, userContext: TaskContext(cpu),
                        kernelStackBase: 0, kernelStackSize: l.threadSize, files: files, brk: brk)
        task.startBrk = vmas.filter { $0.segment == .heap }.map(\.start).min() ?? brk
        if task.state == .zombie { task.exitCode = 0 }
        if task.state == .blocked { task.blockedOn = .event }
        if linux {
            task.kernelStackBase = try allocateKernelStack()
            writeThreadInfo(task)
            try prepareFirstReturn(&task)
        }
        core.tasks.append(task)
    }

    /// A segment register's state at the start, from the descriptor its selector names (no checks beyond existence).
    func segmentFor(_ r: SegmentRegisterName, _ sel: UInt16, task: String) throws(MachineError) -> SegmentRegister {
        let s = Selector(sel)
        if s.isNull {
            if r == .cs { throw MachineError("task \(task): CS cannot be a null selector") }
            // A null DS/ES/FS/GS stays null (a use outside 64-bit mode faults, SEG-5a); a null SS in IA-32e mode
            // is the flat stack the 64-bit CPU runs on.
            if machine.longMode && r == .ss { return SegmentRegister(selector: sel, cache: .nullStack(dpl: UInt8(sel & 3))) }
            return SegmentRegister(selector: sel, cache: .unusable)
        }
        guard let d = machine.descriptor(s), d.isCodeOrData else {
            throw MachineError("task \(task): \(r.rawValue) selector 0x\(String(sel, radix: 16)) does not name a code or data segment")
        }
        var cache = d.cache
        if !machine.longMode { cache.long = false }
        return SegmentRegister(selector: sel, cache: cache)
    }

    /// Builds the kernel side of a task that has never run: an interrupt frame holding its user context on its
    /// kernel stack, so that its first dispatch returns to user mode with IRET (as ret_from_fork does).
    mutating func prepareFirstReturn(_ task: inout Task) throws(MachineError) {
        let u = task.userContext
        let is64 = machine.longMode
        let w = is64 ? 8 : 4
        var sp = task.kernelStackTop
        let frame: [UInt64] = [UInt64(u.ss.selector), u[.rsp], u.rflags, UInt64(u.cs.selector), u.rip]
        // Same-privilege returns pop only EIP, CS, EFLAGS in legacy mode.
        let words = (!is64 && u.cpl == 0) ? Array(frame.suffix(3)) : frame
        let cr3 = core.templateCR3 ?? task.cr3
        let bottom = sp - UInt64(w * words.count)
        if bottom & ~0xFFF == (sp - 1) & ~0xFFF, let pa = physical(of: bottom, cr3: cr3) {
            // The frame lies in one page (the stack top is page aligned): one walk for all its words.
            for (i, v) in words.enumerated() {
                machine.paging.memory.write(pa + UInt64((words.count - 1 - i) * w), value: v, size: w)
            }
            sp = bottom
        } else {
            for v in words {
                sp -= UInt64(w)
                guard poke(sp, value: v, size: w, cr3: cr3) else { throw MachineError("task \(task.name): its kernel stack is not mapped") }
            }
        }
        var k = CPUState()
        enterKernelSegments(&k)
        k.gpr = u.gpr
        k[.rsp] = sp
        k.rip = core.layout.kernelTextBase + 0x3100  // ret_from_fork
        k.rflags = RFLAGS.reserved1
        k.ds = u.ds; k.es = u.es; k.fs = u.fs; k.gs = u.gs
        task.kernelContext = TaskContext(k)
        task.returnPath = .iret(skip: 0)
    }
}
