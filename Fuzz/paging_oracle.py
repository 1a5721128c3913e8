"""An independent oracle for x86 paging permissions, written from the Intel SDM (Vol. 3A ch. 4)
and shared/spec/machine-rules.md (PG-1..PG-15), not from the engine's code.

It answers, for one access through 32-bit, PAE or 4-level paging: does it fault, with which
#PF error code (P/W/U/RSVD/I/PK, SDM §4.7) and CR2, or which physical address does it reach,
and what A/D bits does the leaf hold afterwards (§4.8). A small TLB model (§4.10, PG-15)
covers stale translations, INVLPG, CR3 writes and global pages.

Entries are modelled as raw bit values, built from the scenario format's `pages` flags the way
docs/format.md describes them (leaf defaults P=1, R/W=0, U/S=0, XD=0; upper levels P/W/U=1;
`reserved: true` = bit 51 of an 8-byte entry, bit 21 of a 4 MiB PDE), and then decoded with the
SDM's reserved-bit tables, so that the permission rules work from bits as the CPU does.

Choices the SDM leaves to the implementation follow machine-rules.md / docs/machine-model.md:
  - no A bit is set by a walk that faults (PG-14 allows either; the engine sets none);
  - the PK bit is set whenever the protection key refuses, even alongside another violation
    (SDM §4.7 lists PK's conditions without excluding other violations; QEMU does the same);
  - a #PF drops the TLB entry of its address (PG-15);
  - a write through a cached translation whose D is 0 walks the tables again (§4.8).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAXPHYADDR = 40

# Entry bits (SDM §4.3-4.5, PG-4).
P, RW, US, PWT, PCD, A, D, PS, G = (1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8)
XD = 1 << 63
PKEY_SHIFT = 59

# #PF error code (SDM §4.7, PG-11).
EC_P, EC_W, EC_U, EC_RSVD, EC_I, EC_PK = 1, 2, 4, 8, 16, 32

SIZES = {"4k": 0x1000, "2m": 0x200000, "4m": 0x400000, "1g": 0x40000000}


def bits(hi: int, lo: int) -> int:
    """The mask of bits hi..lo (inclusive)."""
    if hi < lo:
        return 0
    return ((1 << (hi + 1)) - 1) & ~((1 << lo) - 1)


@dataclass
class Control:
    """The control state an access depends on."""
    mode: str                 # "32bit", "pae", "4level"
    wp: bool = True           # CR0.WP
    pse: bool = False         # CR4.PSE (32-bit paging)
    pge: bool = False         # CR4.PGE
    smep: bool = False        # CR4.SMEP
    smap: bool = False        # CR4.SMAP
    pke: bool = False         # CR4.PKE
    nxe: bool = False         # EFER.NXE
    ac: bool = False          # EFLAGS.AC
    pkru: int = 0


@dataclass
class Access:
    op: str                   # "read", "write", "fetch"
    cpl: int
    implicit: bool = False

    @property
    def user_mode(self) -> bool:
        """SDM §4.6: a user-mode access is one at CPL 3 that is not an implicit supervisor access."""
        return self.cpl == 3 and not self.implicit


def levels_for(mode: str, size: str) -> list[str]:
    """The entries a walk reads, top-down, down to the leaf of a page of `size`."""
    if mode == "32bit":
        return ["pde"] if size == "4m" else ["pde", "pte"]
    if mode == "pae":
        return ["pdpte", "pde"] if size == "2m" else ["pdpte", "pde", "pte"]
    return {"1g": ["pml4e", "pdpte"], "2m": ["pml4e", "pdpte", "pde"]}.get(size, ["pml4e", "pdpte", "pde", "pte"])


def flag_bits(flags: dict, writable_user: bool) -> int:
    """P, R/W, U/S, G, A, D, XD and the protection key of an entry, as the scenario format writes
    them: P defaults to 1, R/W and U/S to `writable_user`, the rest to 0."""
    v = 0
    for key, bit, default in (("present", P, True), ("writable", RW, writable_user), ("user", US, writable_user),
                              ("global", G, False), ("accessed", A, False), ("dirty", D, False), ("nx", XD, False)):
        if flags.get(key, default):
            v |= bit
    return v | (flags.get("pkey", 0) & 0xF) << PKEY_SHIFT


def leaf_value(flags: dict, mode: str, size: str, phys: int) -> int:
    """A leaf entry as the scenario format describes it (defaults P=1, R/W=0, U/S=0, XD=0)."""
    v = flag_bits(flags, writable_user=False)
    if size != "4k":
        v |= PS
    if flags.get("reserved", False):
        v |= (1 << 21) if mode == "32bit" else (1 << 51)
    if mode == "32bit" and size == "4m":
        v |= (phys & 0xFFC00000) | (((phys >> 32) & 0xFF) << 13)   # PSE-36
    else:
        v |= phys & bits(MAXPHYADDR - 1, 12)
    return v


def upper_value(flags: dict | None, mode: str, level: str) -> int:
    """An upper-level entry's flag bits (defaults P/W/U=1, as Linux builds them); no frame."""
    flags = flags or {}
    if mode == "pae" and level == "pdpte":
        v = P if flags.get("present", True) else 0
        return v | ((1 << 51) if flags.get("reserved", False) else 0)
    v = flag_bits(flags, writable_user=True)
    if flags.get("reserved", False):
        v |= 1 << 51
    return v


def reserved_mask(ctl: Control, level: str, large: bool) -> int:
    """Reserved bits of a present entry (SDM tables 4-4..4-6, 4-8..4-11, 4-14..4-20)."""
    m = ctl.mode
    xd = 0 if ctl.nxe else XD
    if m == "32bit":
        # Only a 4 MiB PDE has reserved bits: bit 21, and PSE-36 bits 20:13 above MAXPHYADDR.
        if level == "pde" and large:
            return (1 << 21) | bits(20, 13 + (MAXPHYADDR - 32))
        return 0
    if m == "pae":
        # PDEs/PTEs: bits 62:MAXPHYADDR reserved, XD reserved without NXE; 2 MiB: bits 20:13.
        r = bits(62, MAXPHYADDR) | xd
        if level == "pde" and large:
            r |= bits(20, 13)
        return r
    # 4-level: bits 51:MAXPHYADDR reserved (62:52 ignored, 62:59 the key on leaves).
    r = bits(51, MAXPHYADDR) | xd
    if level == "pml4e":
        r |= PS
    elif level == "pdpte" and large:
        r |= bits(29, 13)
    elif level == "pde" and large:
        r |= bits(20, 13)
    return r


@dataclass
class Rights:
    """Effective rights of a translation (SDM §4.6, PG-5)."""
    writable: bool = True
    user: bool = True
    xd: bool = False
    pkey: int = 0


@dataclass
class Outcome:
    """What an access did: a #PF error code (and CR2), or the physical address reached."""
    fault: int | None = None
    cr2: int | None = None
    physical: int | None = None
    walked: bool = False
    why: str = ""


def error_access_bits(ctl: Control, acc: Access) -> int:
    """W/R, U/S and I/D (SDM §4.7: I/D only when SMEP=1, or PAE/4-level paging with NXE=1)."""
    code = 0
    if acc.op == "write":
        code |= EC_W
    if acc.user_mode:
        code |= EC_U
    if acc.op == "fetch" and (ctl.smep or (ctl.mode in ("pae", "4level") and ctl.nxe)):
        code |= EC_I
    return code


def rights_check(ctl: Control, acc: Access, r: Rights) -> tuple[int | None, str]:
    """Access rights after a complete walk (SDM §4.6.1, §4.6.2). Returns (error code or None, why)."""
    user = acc.user_mode
    write = acc.op == "write"
    bad = []
    if acc.op == "fetch":
        if ctl.mode != "32bit" and ctl.nxe and r.xd:
            bad.append("XD")
        if user and not r.user:
            bad.append("user fetch of supervisor page")
        if not user and r.user and ctl.smep:
            bad.append("SMEP")
    else:
        if user:
            if not r.user:
                bad.append("user access to supervisor page")
            elif write and not r.writable:
                bad.append("user write to read-only page")
        else:
            if r.user and ctl.smap and (acc.implicit or not ctl.ac):
                bad.append("SMAP")
            if write and ctl.wp and not r.writable:
                bad.append("WP")
    pk = False
    # §4.6.2: keys apply with IA32_EFER.LMA=1 and CR4.PKE=1, to data accesses to user-mode addresses.
    if ctl.mode == "4level" and ctl.pke and acc.op != "fetch" and r.user:
        ad = (ctl.pkru >> (2 * r.pkey)) & 1
        wd = (ctl.pkru >> (2 * r.pkey + 1)) & 1
        if ad or (write and wd and (user or ctl.wp)):
            pk = True
            bad.append("PK")
    if not bad:
        return None, ""
    code = EC_P | error_access_bits(ctl, acc) | (EC_PK if pk else 0)
    return code, ", ".join(bad)


INDEX = {  # (level, shift, index bits) top-down, per mode (SDM §4.3-4.5)
    "32bit": [("pde", 22, 10), ("pte", 12, 10)],
    "pae": [("pdpte", 30, 2), ("pde", 21, 9), ("pte", 12, 9)],
    "4level": [("pml4e", 39, 9), ("pdpte", 30, 9), ("pde", 21, 9), ("pte", 12, 9)],
}


class MappingError(Exception):
    """A mapping the format refuses (a conflicting upper-level override, a large page over a table)."""


class AddressSpace:
    """Page tables as a tree of raw entries keyed by their index path (frames of tables elided).

    `map` follows the format's `pages` rules (docs/format.md): upper-level entries are created
    present/writable/user (PAE PDPTEs: present) unless a `pml4e`/`pdpte`/`pde` override says
    otherwise; an override on an entry another mapping set explicitly to other flags is an error
    (unless `overwrite`, as in `set: pages`); a mapping without an override leaves an existing
    entry as it is. Two mappings of one list that cover one page are an error too (the leaf would
    keep only one of them), except as `set: pages` edits.
    """

    def __init__(self, mode: str):
        self.mode = mode
        self.entries: dict[tuple, int] = {}
        self.explicit: dict[tuple, int] = {}
        self.tables: set[tuple] = set()           # keys of entries that point at a table
        self.frames: dict[tuple, int] = {}        # leaf key -> physical base
        if mode == "pae":
            for i in range(4):
                self.entries[(i,)] = P
                self.tables.add((i,))

    def path(self, addr: int) -> list[tuple[str, tuple]]:
        out, key = [], ()
        for level, shift, nbits in INDEX[self.mode]:
            key = key + ((addr >> shift) & ((1 << nbits) - 1),)
            out.append((level, key))
        return out

    def map(self, spec: dict, overwrite: bool = False):
        size = spec.get("size", "4k")
        step = SIZES[size]
        levels = levels_for(self.mode, size)
        overrides = {lv: spec[lv] for lv in ("pml4e", "pdpte", "pde") if lv in spec}
        leaf_flags = {k: spec[k] for k in spec if k not in ("virt", "phys", "size", "count") and k not in overrides}
        writes = []
        for i in range(spec.get("count", 1)):
            virt = spec["virt"] + i * step
            path = self.path(virt)[:len(levels)]
            for level, key in path[:-1]:
                ov = overrides.get(level)
                if key in self.tables:
                    if ov is not None:
                        want = upper_value(ov, self.mode, level)
                        had = self.explicit.get(key)
                        if had is not None and had != want and not overwrite:
                            raise MappingError(f"{level} {key} set differently")
                        if had != want:
                            writes.append((key, want, True))
                elif key in self.entries and self.entries[key] != 0:
                    raise MappingError(f"{level} {key} is a large page")
                else:
                    want = upper_value(ov, self.mode, level) if ov is not None else (
                        P if (self.mode == "pae" and level == "pdpte") else (P | RW | US))
                    writes.append((key, want, ov is not None))
                    self.tables.add(key)   # (provisional: undone below on error)
            level, key = path[-1]
            if key in self.tables:
                raise MappingError(f"{level} {key} holds a page table")
            if key in self.frames and not overwrite:
                raise MappingError(f"{level} {key} is mapped twice")
            cur = self.entries.get(key, 0)
            if level != "pte" and cur != 0 and not cur & PS:
                raise MappingError(f"{level} {key} holds a page table")
            phys = spec["phys"] + i * step
            writes.append((key, leaf_value(leaf_flags, self.mode, size, phys), None))
            self.frames[key] = phys
            for k, v, expl in writes:
                self.entries[k] = v
                if expl is True:
                    self.explicit[k] = v
                elif expl is False:
                    self.explicit.pop(k, None)
            writes = []

    def leaf_for(self, addr: int, pse: bool) -> tuple | None:
        """The key of the leaf that maps `addr` as the tables are built (for A/D expectations)."""
        for level, key in self.path(addr):
            v = self.entries.get(key, 0)
            if level == "pte" or (key not in self.tables and v & PS and (level != "pde" or self.mode != "32bit" or pse)):
                return key
            if key not in self.tables:
                return None
        return None


@dataclass
class TLBEntry:
    base: int
    size: int
    phys: int
    rights: Rights
    dirty: bool
    glob: bool


class Machine:
    """Paging state: control registers, an address space, the PAE PDPTE registers, a TLB."""

    def __init__(self, ctl: Control, space: AddressSpace):
        self.ctl = ctl
        self.space = space
        self.tlb: list[TLBEntry] = []
        self.pdptes = [0, 0, 0, 0]
        self.load_pdptes()

    def load_pdptes(self):
        """PG-2: the four PDPTEs are read at CR3 writes (and MOV to CR0/CR4 changing CD/NW/PGE/PSE/SMEP)."""
        if self.ctl.mode == "pae":
            self.pdptes = [self.space.entries.get((i,), 0) for i in range(4)]

    # -- SDM §4.10.4.1: invalidation
    def invlpg(self, addr: int):
        self.tlb = [e for e in self.tlb if not (e.base <= addr < e.base + e.size)]

    def write_cr3(self):
        self.tlb = [e for e in self.tlb if e.glob]
        self.load_pdptes()

    def flush_all(self):
        self.tlb = []

    def _lookup(self, addr: int) -> TLBEntry | None:
        for e in self.tlb:
            if e.base <= addr < e.base + e.size:
                return e
        return None

    def access(self, addr: int, acc: Access, size: int = 1) -> Outcome:
        """One access of `size` bytes at `addr`; a split access also needs the page of its last byte,
        and a fault there reports that page's first byte in CR2."""
        if self.ctl.mode != "4level":
            addr &= 0xFFFFFFFF
        out = self.translate(addr, acc)
        last = (addr + size - 1) & ~0xFFF
        if out.fault is None and last != addr & ~0xFFF:
            second = self.translate(last, acc)
            if second.fault is not None:
                second.why = "second page: " + second.why
                return second
        return out

    def translate(self, addr: int, acc: Access) -> Outcome:
        ctl = self.ctl
        hit = self._lookup(addr)
        if hit is not None:
            code, why = rights_check(ctl, acc, hit.rights)
            if code is not None:
                self.tlb.remove(hit)        # a #PF drops the translation (PG-15)
                return Outcome(fault=code, cr2=addr, why=why + " (TLB)")
            if acc.op != "write" or hit.dirty:
                return Outcome(physical=hit.phys + (addr - hit.base))
            self.tlb.remove(hit)            # D=0 in the cached entry: walk again to set D (§4.8)
        return self.walk(addr, acc)

    def walk(self, addr: int, acc: Access) -> Outcome:
        ctl, sp = self.ctl, self.space
        abits = error_access_bits(ctl, acc)
        r = Rights()
        used = []
        leaf_key, leaf_shift = None, 12
        for level, shift, _ in INDEX[ctl.mode]:
            key = sp.path(addr)[[lv for lv, _, _ in INDEX[ctl.mode]].index(level)][1]
            if ctl.mode == "pae" and level == "pdpte":
                v = self.pdptes[key[0]]
                if not v & P:
                    return Outcome(fault=abits, cr2=addr, walked=True, why="PDPTE not present")
                continue   # reserved bits were checked at the load (#GP); no R/W, U/S there
            v = sp.entries.get(key, 0)
            if not v & P:
                return Outcome(fault=abits, cr2=addr, walked=True, why=f"{level} not present")
            large = level in ("pdpte", "pde") and bool(v & PS) and not (ctl.mode == "32bit" and not ctl.pse)
            if level == "pdpte" and ctl.mode != "4level":
                large = False
            if v & reserved_mask(ctl, level, large):
                return Outcome(fault=EC_P | EC_RSVD | abits, cr2=addr, walked=True, why=f"{level} reserved")
            r.writable &= bool(v & RW)
            r.user &= bool(v & US)
            if ctl.nxe and v & XD:
                r.xd = True
            used.append(key)
            if level == "pte" or large:
                leaf_key, leaf_shift = key, shift
                if ctl.mode == "4level":
                    r.pkey = (v >> PKEY_SHIFT) & 0xF
                break
            if key not in sp.tables:
                raise AssertionError("walk left the modelled tables")
        code, why = rights_check(ctl, acc, r)
        if code is not None:
            return Outcome(fault=code, cr2=addr, walked=True, why=why)
        # §4.8 (PG-14): A in every entry used, D in the leaf on a write.
        for key in used:
            sp.entries[key] |= A
        if acc.op == "write":
            sp.entries[leaf_key] |= D
        size = 1 << leaf_shift
        base = addr & ~(size - 1)
        phys = sp.frames[leaf_key]
        leafv = sp.entries[leaf_key]
        self.invlpg(addr)
        self.tlb.append(TLBEntry(base=base, size=size, phys=phys, rights=r, dirty=bool(leafv & D),
                                 glob=ctl.pge and bool(leafv & G)))
        return Outcome(physical=phys + (addr - base), walked=True)

    def leaf_ad(self, addr: int) -> tuple[bool, bool] | None:
        key = self.space.leaf_for(addr, self.ctl.pse)
        if key is None:
            return None
        v = self.space.entries.get(key, 0)
        return bool(v & A), bool(v & D)
