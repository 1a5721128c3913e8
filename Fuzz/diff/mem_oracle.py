"""A model of the linux preset's memory rules, written from scenario-format.md (`processes.memory`,
`pages`, "demand paging for a not-present page inside a VMA; SIGSEGV for a user fault outside; a
kernel fault with no fix-up is an oops that kills the task"), docs/kernel-model.md (Tasks, System
calls: read/write, brk, mmap, fork, -EFAULT, demand paging by the kernel's own copies; Exceptions) and
the SDM's paging rules (Vol. 3A §4.6 access rights, §4.7 the #PF error code; machine-rules.md PG-5..PG-13),
independently of the engine's Swift code. Linux references: arch/x86/mm/fault.c (do_user_addr_fault,
access_error, bad_area, no_context -> oops), mm/mmap.c (brk, do_mmap, get_unmapped_area),
mm/gup.c (populate_vma_page_range: PROT_NONE VMAs are not populated), lib/usercopy.c.

The scheduler and process states come from sched_oracle.Oracle (policy fifo): this file only adds the
address spaces and what the kernel does with a fault.

Where Linux and the documented model differ on purpose, the docs are followed (marked DOC):
- (no longer a difference) a not-present page is demand paged as Linux's access_error decides: a write
  needs `w`, a read or a fetch only an accessible VMA (any of rwx); a fetch from a page without `x` is
  mapped with XD (NXE on) and faults again, present (two #PF), or runs (NXE off);
- -EFAULT from read/write is decided before memory is touched (no #PF for a bad user pointer);
- a stack VMA declared `grows_down: true` (VM_GROWSDOWN; without it, and for the default layout's stack,
  a fault below it is a fault outside every VMA, as the format says) grows down to a not-present page
  below it (mm/mmap.c expand_downwards): from a user-mode fault or a system call's copy, not from an `access` at CPL 0 (kernel
  code with no exception-table entry, Linux 6.5's lock_mm_and_find_vma), when the page is at or above
  mmap_min_addr, the grown stack is at most RLIMIT_STACK (8 MiB) and the VMA below (unless a stack or
  PROT_NONE) ends at least stack_guard_gap (1 MiB) below the new start.

A write to a present, read-only page inside a VMA with `w` (an explicit `pages` entry mapped read-only
over a VMA: the explicit mapping is the one in force) is a write-protect fault: Linux's access_error lets a
write through to a VM_WRITE VMA whether the page is present or not, and handle_mm_fault -> do_wp_page makes
the PTE writable (fault.c, mm/memory.c). The model's private VMA pages are never shared (fork copies them)
and explicit pages are shared mappings, so the page is reused in place (wp_page_reuse): no copy, the same
frame. The #PF (P|W, with U for a user access) stays in the faults and the write is retried. The kernel's
own copy_to_user into such a page does the same (#PF P|W, U=0). A write to a supervisor page from user
mode is not fixed (the leaf's U/S would still refuse it): SIGSEGV. fork gives the child its explicit pages
as declared (read-only again: its first write faults and is fixed in the child).
"""

import copy

PAGE = 0x1000
EFAULT, EINVAL, ENOMEM, EPERM, EEXIST = -14, -22, -12, -1, -17
SIGSEGV = 11
SIGKILL = 9

MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANON = 0x01, 0x02, 0x10, 0x20
MAP_POPULATE, MAP_FIXED_NOREPLACE = 0x8000, 0x100000
MAP_32BIT = 0x40              # x86_64: a 64-bit call maps bottom-up in [0x40000000, 0x80000000)
MMAP_MIN = 0x10000
GUARD_GAP = 0x100000          # stack_guard_gap: 256 pages
RLIMIT_STACK = 8 << 20        # the default RLIMIT_STACK


class Mode:
    """The paging facts of a mode: user-space top (access_ok), TASK_SIZE for brk/mmap, mmap_base,
    whether fetch faults carry I (PAE/4-level with EFER.NXE, PG-11) and NX exists, the kernel half's
    preset mappings (LNX-5) as (start, end, writable, nx)."""

    def __init__(self, name, paging, compat=False):
        self.name = name
        self.paging = paging
        self.compat = compat
        if name == "x86_64" and compat:
            # a 32-bit task in x86_64 (compatibility mode): TASK_SIZE is IA32_PAGE_OFFSET 0xFFFFE000 for
            # brk and mmap (mmap_base 0xF7FFE000), access_ok still the 64-bit limit, 4-level paging
            self.access_top = 0x0000800000000000
            self.task_size = 0xFFFFE000
            self.nx = True
            self.kernel = [(0xffff888000000000, 0xffff888000000000 + (1 << 30), True, True)]
            self.text = 0x08048000
        elif name == "x86_64":
            self.access_top = 0x0000800000000000
            self.task_size = 0x7ffffffff000
            self.nx = True
            self.kernel = [(0xffff888000000000, 0xffff888000000000 + (1 << 30), True, True),
                           (0xffffffff81000000, 0xffffffff81000000 + (2 << 20), False, False)]
            self.text = 0x400000
        else:
            self.access_top = 0xC0000000
            self.task_size = 0xC0000000
            self.nx = paging == "pae"        # 32-bit paging has no XD bit and never sets I
            self.kernel = [(0xC0000000, 0xC4000000, True, False)]
            self.text = 0x08048000
        self.mmap_base = self.task_size - 0x8000000

    def canonical(self, a):
        if self.name != "x86_64":
            return True
        return a < 0x0000800000000000 or a >= 0xffff800000000000


class VMA:
    def __init__(self, seg, start, end, r, w, x, shared=False, grows=False):
        self.seg, self.start, self.end, self.r, self.w, self.x, self.shared = seg, start, end, r, w, x, shared
        self.grows = grows      # `grows_down: true` (VM_GROWSDOWN): only such a stack grows

    def contains(self, a):
        return self.start <= a < self.end


class Frames:
    """Physical frames by number, with the bytes known to be in them ({offset: byte}); a byte not
    written by the scenario is unknown (the oracle never assumes what a fresh frame holds)."""

    def __init__(self):
        self.data = {}

    def new(self, contents=None):
        f = len(self.data)
        self.data[f] = dict(contents or {})
        return f


class Space:
    """One address space: VMAs, the user PTEs present ({page: (writable, user, nx)}) and their frames,
    explicit pages."""

    def __init__(self, mode, frames):
        self.mode = mode
        self.vmas = []
        self.ptes = {}
        self.frame_of = {}
        self.store = frames
        self.explicit = []           # (virt, end)
        self.declared = {}           # explicit page -> (writable, user, nx) as the scenario declared it
        self.brk = 0
        self.start_brk = None        # mm->start_brk: fixed when the task is built (None: the break)

    def set_byte(self, a, value):
        f = self.frame_of.get(a & ~0xFFF)
        if f is not None:
            self.store.data[f][a & 0xFFF] = value

    def get_bytes(self, a, n):
        """The n bytes at a (little-endian value), or None when one is unknown."""
        v = 0
        for i in range(n):
            f = self.frame_of.get((a + i) & ~0xFFF)
            b = None if f is None else self.store.data[f].get((a + i) & 0xFFF)
            if b is None:
                return None
            v |= b << (8 * i)
        return v

    def vma_at(self, a):
        return next((v for v in self.vmas if v.contains(a)), None)

    def expand_stack(self, a):
        """expand_downwards: the stack VMA right above a (in no VMA) grows down to a's page, or None."""
        if self.vma_at(a) is not None:
            return None
        above = [v for v in self.vmas if v.start > a]
        if not above:
            return None
        nxt = min(above, key=lambda v: v.start)
        page = a & ~0xFFF
        if nxt.seg != "stack" or not nxt.grows or page < MMAP_MIN or nxt.end - page > RLIMIT_STACK:
            return None
        below = [v for v in self.vmas if v.end <= a]
        if below:
            prev = max(below, key=lambda v: v.end)
            if prev.seg != "stack" and (prev.r or prev.w or prev.x) and page - prev.end < GUARD_GAP:
                return None
        nxt.start = page
        return nxt

    def populate(self, v):
        # populate_vma_page_range: a PROT_NONE VMA is not populated (Linux's PTEs for it are never
        # accessible anyway); the others get present user pages with the VMA's W and NX.
        if not (v.r or v.w or v.x):
            return
        p = v.start
        while p < v.end:
            self.map_page(p, v)
            p += PAGE

    def map_page(self, page, v):
        self.ptes[page] = (v.w, True, (not v.x) and self.mode.nx)
        self.frame_of[page] = self.store.new()

    def leaf(self, a):
        """(writable, user, nx) of the page holding a, or None when not present."""
        m = self.mode
        if a >= m.access_top:
            for s, e, w, nx in m.kernel:
                if s <= a < e:
                    return (w, False, nx and m.nx)
            return None
        return self.ptes.get(a & ~0xFFF)


def pf_code(leaf, kind, user, mode):
    """The #PF error code of one access to one page, or None when it is allowed (PG-6..PG-8, PG-11;
    CR0.WP = 1, no SMEP/SMAP/PKE in the preset)."""
    write, fetch = kind == "write", kind == "fetch"
    bits = (2 if write else 0) | (4 if user else 0) | (0x10 if fetch and mode.nx else 0)
    if leaf is None:
        return bits
    w, u, nx = leaf
    if user and not u:
        return bits | 1
    if write and not w:
        return bits | 1
    if fetch and nx:
        return bits | 1
    return None


class MemOracle:
    """Address spaces per task on top of sched_oracle.Oracle `o`."""

    def __init__(self, mode, o):
        self.mode = mode
        self.o = o
        self.spaces = {}
        self.stdin = ""
        self.stdin_off = 0

    def space(self):
        return self.spaces[self.o.current]

    # ---- faults ----------------------------------------------------------------------------------
    def kill_current(self, signal=SIGSEGV):
        c = self.o.cur()
        c.signal = signal
        self.last_signal = "SIGKILL" if signal == SIGKILL else "SIGSEGV"
        self.o.become_zombie(c)
        self.o.schedule("signal")

    def allows(self, v, code):
        """access_error for a not-present page: a write needs w; a read or fetch an accessible VMA."""
        if code & 2:
            return v.w
        return v.r or v.w or v.x

    def write_protect_fixable(self, v, page, user):
        """do_wp_page: a write (P|W) to a present read-only page of a VMA with w is fixed by making the PTE
        writable, when that alone lets the write through (a user write also needs a user page)."""
        leaf = self.space().ptes.get(page)
        if v is None or not v.w or leaf is None:
            return False
        w, u, nx = leaf
        return not w and (u or not user)

    def make_writable(self, page):
        sp = self.space()
        w, u, nx = sp.ptes[page]
        sp.ptes[page] = (True, u, nx)

    def access(self, kind, addr, size, cpl):
        """An `access` step: the faults raised, in order ((vector, code, cr2)), and whether the task
        was killed. cpl 0 is the task's kernel code (supervisor; a fault with no fix-up is an oops)."""
        sp = self.space()
        m = self.mode
        user = cpl == 3
        faults = []
        last = addr + size - 1
        if not m.canonical(addr) or (kind != "fetch" and not m.canonical(last)):
            # PG-3: a non-canonical linear address is #GP(0), never #PF; SIGSEGV from user mode, an oops
            # in the kernel.
            faults.append(("GP", 0, None))
            self.kill_current()
            return faults, True
        for _ in range(4):
            pages = [addr]
            if (last & ~0xFFF) != (addr & ~0xFFF):
                pages.append(last & ~0xFFF)     # the CR2 of a fault on the second page: its first byte
            fault = None
            for a in pages:
                if not m.canonical(a):
                    # a fetch runs into the non-canonical half only after the bytes of its first page
                    faults.append(("GP", 0, None))
                    self.kill_current()
                    return faults, True
                code = pf_code(sp.leaf(a), kind, user, m)
                if code is not None:
                    fault = (a, code)
                    break
            if fault is None:
                return faults, False
            a, code = fault
            faults.append(("PF", code, a))
            # do_user_addr_fault: a kernel-mode instruction fetch from a user address ("(error_code &
            # (X86_PF_USER | X86_PF_INSTR)) == X86_PF_INSTR") is page_fault_oops before any VMA lookup.
            if not user and code & 0x10 and a < m.access_top:
                self.kill_current(SIGKILL)
                return faults, True
            # do_page_fault: not present, inside a VMA allowing the access -> demand paging, retry.
            v = sp.vma_at(a) if a < m.access_top else None
            if v is None and not code & 1 and user and a < m.access_top:
                v = sp.expand_stack(a)          # a user fault below a stack grows it first
            if not code & 1 and v is not None and self.allows(v, code):
                sp.map_page(a & ~0xFFF, v)
                continue
            # a write-protect fault inside a VMA with w: the PTE is made writable, retry.
            if code & 3 == 3 and code & ~7 == 0 and self.write_protect_fixable(v, a & ~0xFFF, user):
                self.make_writable(a & ~0xFFF)
                continue
            # SIGSEGV (user) or an oops (kernel): page_fault_oops kills with SIGKILL
            self.kill_current(SIGSEGV if user else SIGKILL)
            return faults, True
        raise AssertionError("more than 4 tries")

    # ---- user copies (read/write) ----------------------------------------------------------------------
    def user_page_ok(self, a, n, write, faults):
        """userRangeOK for one chunk inside a page: a present page must be user (and writable for a
        write); a missing one is faulted in by the kernel's own access (#PF U=0 P=0, W for
        copy_to_user, CR2 = the first byte touched) when its VMA allows the access."""
        sp = self.space()
        page = a & ~0xFFF
        leaf = sp.ptes.get(page)
        if leaf is not None:
            w, u, nx = leaf
            if not u:
                return False
            if write and not w:
                # copy_to_user's write faults P|W (U=0); inside a VMA with w the page is made writable.
                if not self.write_protect_fixable(sp.vma_at(page), page, False):
                    return False
                faults.append(("PF", 3, a))
                self.make_writable(page)
            return True
        v = sp.vma_at(page) or sp.expand_stack(a)    # copy_*_user has a fix-up: it may grow a stack
        if v is None or not (v.w if write else (v.r or v.w or v.x)):
            return False
        faults.append(("PF", 2 if write else 0, a))
        sp.map_page(page, v)
        return True

    def copy_prefix(self, addr, count, write, faults):
        done = 0
        a = addr
        while done < count:
            n = min(count - done, PAGE - (a & 0xFFF))
            if not self.user_page_ok(a, n, write, faults):
                break
            done += n
            a += n
        return done

    def sys_write(self, buf, count):
        faults = []
        if buf + count > self.mode.access_top:
            return EFAULT, faults
        if count == 0:
            return 0, faults
        got = self.copy_prefix(buf, count, False, faults)
        if got < count:
            got = got // 2048 * 2048       # tty_write: a chunk not copied whole is not written
        return (got if got else EFAULT), faults

    def sys_read(self, buf, count):
        faults = []
        if buf + count > self.mode.access_top:
            return EFAULT, faults
        if count == 0:
            return 0, faults
        # A terminal read in canonical mode returns at most one line (n_tty.c canon_copy_from_read_buf), and
        # iterate_tty_read (tty_io.c) takes it in 64-byte chunks before copying them out: a short copy ends
        # the read with the rest of its chunk consumed (lost), -EFAULT when nothing was copied.
        rest = self.stdin[self.stdin_off:]
        nl = rest.find("\n")
        line = len(rest) if nl < 0 else nl + 1
        n = min(count, line)
        if n <= 0:
            return 0, faults
        got = self.copy_prefix(buf, n, True, faults)
        for i in range(got):
            self.space().set_byte(buf + i, ord(self.stdin[self.stdin_off + i]))
        self.stdin_off += n if got >= n else min(n, (got // 64 + 1) * 64)
        if got == 0:
            return EFAULT, faults
        return got, faults

    # ---- brk ---------------------------------------------------------------------------------------------
    def sys_brk(self, req):
        sp = self.space()
        heaps = [v for v in sp.vmas if v.seg == "heap"]
        # mm->start_brk is set once, when the task is built (the lowest heap VMA, else the break); unmapping the
        # heap later (munmap, a MAP_FIXED mmap over it) does not move it (mm/mmap.c brk: min_brk = start_brk).
        start = sp.start_brk if sp.start_brk is not None else sp.brk
        cur = sp.brk
        if req < start or req > self.mode.task_size:
            return cur
        end = (req + 0xFFF) & ~0xFFF
        old_end = (cur + 0xFFF) & ~0xFFF
        if end > old_end:
            others = [(v.start, v.end, v.seg == "stack") for v in sp.vmas if v.seg != "heap"]
            others += [(s, e, False) for s, e in sp.explicit]
            for s, e, stack in others:
                if e <= old_end:
                    continue
                gap = (s - GUARD_GAP if s >= GUARD_GAP else 0) if stack else s
                if end + PAGE > gap:
                    return cur
        if end > old_end:
            # mm/mmap.c do_brk_flags: the VMA ending at the old break is extended only when its flags are the
            # default rw- (can_vma_merge_after); otherwise (a heap made ---, r-x ...) the new range is a VMA of
            # its own, rw-.
            top = max(heaps, key=lambda v: v.start) if heaps else None
            if top is not None and top.end >= old_end and top.r and top.w and not top.x:
                top.end = max(end, top.end)
            else:
                lo = max(old_end, start, top.end if top is not None else 0)
                if end > lo:
                    sp.vmas.append(VMA("heap", lo, end, True, True, False))
        elif end < old_end:
            # mm/mmap.c brk (Linux 6.1+): vma_find(newbrk, oldbrk); with no VMA in [new break, old break) the
            # call fails and returns the current break; otherwise do_vmi_align_munmap(newbrk, oldbrk) unmaps
            # that range from whatever VMAs lie there (heap or not).
            if not any(v.start < old_end and end < v.end for v in sp.vmas):
                return cur
            self.remove_range(end, old_end)
        sp.brk = req
        return req

    def remove_range(self, lo, hi):
        """munmap of [lo, hi): every VMA loses what lies there (split at the ends), and the PTEs go."""
        sp = self.space()
        kept = []
        for v in sp.vmas:
            if not (v.start < hi and lo < v.end):
                kept.append(v)
                continue
            if v.start < lo:
                h = copy.copy(v)
                h.end = lo
                kept.append(h)
            if v.end > hi:
                t = copy.copy(v)
                t.start = hi
                kept.append(t)
        sp.vmas = kept
        self.unmap(lo, hi)

    def unmap(self, lo, hi):
        sp = self.space()
        for p in list(sp.ptes):
            if lo <= p < hi:
                del sp.ptes[p]
                sp.frame_of.pop(p, None)

    # ---- mmap -----------------------------------------------------------------------------------------------
    def free(self, s, size):
        sp = self.space()
        e = s + size
        if any(v.start < e and s < v.end for v in sp.vmas):
            return False
        return not any(a < e and s < b for a, b in sp.explicit)

    def stack_gaps(self):
        """vm_start_gap: below each stack VMA, stack_guard_gap that get_unmapped_area leaves free (not below
        the VMA under the stack)."""
        sp = self.space()
        out = []
        for st in sp.vmas:
            if st.seg == "stack":
                below = max([v.end for v in sp.vmas if v.end <= st.start], default=0)
                out.append((max(st.start - GUARD_GAP if st.start >= GUARD_GAP else 0, below), st.start))
        return out

    def hint_free(self, s, size):
        """A hint is taken when free and below the gap of a stack above it (x86 arch_get_unmapped_area)."""
        e = s + size
        return self.free(s, size) and not any(a < e and s < b for a, b in self.stack_gaps())

    def highest_free(self, size, base):
        sp = self.space()
        end = base & ~0xFFF
        taken = [(v.start, v.end) for v in sp.vmas] + list(sp.explicit) + self.stack_gaps()
        while end >= size and end - size >= MMAP_MIN:
            s = end - size
            blockers = [t for t in taken if t[0] < end and s < t[1]]
            if not blockers:
                return s
            end = min(b[0] for b in blockers) & ~0xFFF
        return None

    def lowest_free(self, size, lo, hi):
        sp = self.space()
        s = lo & ~0xFFF
        taken = [(v.start, v.end) for v in sp.vmas] + list(sp.explicit) + self.stack_gaps()
        while size <= hi and s <= hi - size:
            blockers = [t for t in taken if t[0] < s + size and s < t[1]]
            if not blockers:
                return s
            s = (max(b[1] for b in blockers) + 0xFFF) & ~0xFFF
        return None

    def sys_mmap(self, addr, length, prot, flags):
        """Anonymous mmap (flags always carry MAP_ANONYMOUS here). Returns the result (an address or
        -errno) as the kernel computes it (64-bit value)."""
        sp = self.space()
        m = self.mode
        if length == 0:
            return EINVAL
        fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0
        top = m.task_size
        size = (length + 0xFFF) & ~0xFFF
        if size > top:
            return ENOMEM
        if fixed:
            if addr > top - size:
                return ENOMEM
            if addr & 0xFFF:
                return EINVAL
            if addr < MMAP_MIN:
                return EPERM
            if not self.free(addr, size) and flags & MAP_FIXED_NOREPLACE:
                return EEXIST
            start = addr
        else:
            hint = addr & ~0xFFF
            if hint and hint < MMAP_MIN:
                hint = MMAP_MIN
            # arch/x86/kernel/sys_x86_64.c: MAP_32BIT from a 64-bit call (not in_32bit_syscall) goes bottom-up
            # in find_start_end's [0x40000000, 0x80000000); a hint must end at or below 0x80000000.
            below2g = flags & MAP_32BIT and m.name == "x86_64" and not m.compat
            hint_top = 0x80000000 if below2g else top
            if hint and size <= hint_top and hint <= hint_top - size and self.hint_free(hint, size):
                start = hint
            elif below2g:
                start = self.lowest_free(size, 0x40000000, 0x80000000)
                if start is None:
                    return ENOMEM
            else:
                start = self.highest_free(size, m.mmap_base)
                if start is None:
                    return ENOMEM
        typ = flags & 0xF
        if typ not in (MAP_SHARED, MAP_PRIVATE):
            return EINVAL
        if fixed and not self.free(start, size):
            self.remove_range(start, start + size)
        v = VMA("mmap", start, start + size, prot & 7 != 0, prot & 2 != 0, prot & 4 != 0, typ == MAP_SHARED)
        sp.vmas.append(v)
        if (flags & MAP_POPULATE or v.shared) and v.r:
            sp.populate(v)
        return start

    def sys_munmap(self, addr, length):
        """mm/mmap.c __vm_munmap: an unaligned start or a zero length is -EINVAL, so is a range past TASK_SIZE;
        otherwise [addr, addr + page-rounded length) leaves every VMA and 0 is returned."""
        top = self.mode.task_size
        if addr & 0xFFF or length == 0:
            return EINVAL
        size = (length + 0xFFF) & ~0xFFF
        if addr > top or size > top - addr:
            return EINVAL
        self.remove_range(addr, addr + size)
        return 0

    # ---- fork ---------------------------------------------------------------------------------------------
    def fork_space(self, parent, child):
        """The child's address space: the VMAs, brk and every present page (copied or shared: the same
        rights either way)."""
        p = self.spaces[parent]
        c = Space(p.mode, p.store)
        c.vmas = [copy.copy(v) for v in p.vmas]
        c.ptes = dict(p.ptes)
        c.explicit = list(p.explicit)
        c.declared = dict(p.declared)
        c.ptes.update(p.declared)             # explicit pages are mapped again as declared
        c.brk = p.brk
        c.start_brk = p.start_brk
        for page, f in p.frame_of.items():
            v = p.vma_at(page)
            explicit = any(s <= page < e for s, e in p.explicit)
            if explicit or (v is not None and v.shared):
                c.frame_of[page] = f          # explicit pages and MAP_SHARED: the same frame
            else:
                c.frame_of[page] = p.store.new(p.store.data[f])   # a private copy
        self.spaces[child] = c
