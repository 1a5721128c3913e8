"""A small YAML reader and writer for the subset the shipped scenarios use (Python 3 standard library).

It keeps every scalar as written (its raw text and quoting), so a document read and written back
means to libyaml what it meant before: `0x10` stays `0x10`, `"4"` stays quoted, `yes` stays `yes`.
Supported: block mappings and sequences, flow mappings and sequences (over several lines too), plain,
single- and double-quoted scalars, folded and literal block scalars (`>`, `|`), comments, anchors
(`&a`), aliases (`*a`) and merge keys (`<<`). Anything else (tags, complex keys, directives) raises
Unsupported, and the caller skips that document.
"""

import json
import re


class Unsupported(Exception):
    pass


class Scalar:
    __slots__ = ("raw", "anchor")

    def __init__(self, raw, anchor=None):
        self.raw = raw          # as written: 'abc', '"a b"', "'x'", or a block scalar ('>\n  text')
        self.anchor = anchor

    @property
    def plain(self):
        return not self.raw or self.raw[0] not in "\"'>|"

    def text(self):
        """The scalar's string value (quotes removed; block scalars folded as libyaml does for the
        simple cases the scenarios use)."""
        r = self.raw
        if not r:
            return ""
        if r[0] == '"':
            try:
                return json.loads(r.replace("\\/", "/"))
            except ValueError:
                return r[1:-1]
        if r[0] == "'":
            return r[1:-1].replace("''", "'")
        if r[0] in ">|":
            lines = r.split("\n")[1:]
            body = [l.strip() for l in lines]
            if r[0] == "|":
                return "\n".join(body).rstrip("\n") + "\n"
            out, para = [], []
            for l in body:
                if l == "":
                    out.append(" ".join(para))
                    para = []
                else:
                    para.append(l)
            out.append(" ".join(para))
            return "\n".join(x for x in out).rstrip("\n") + "\n"
        return r

    def __repr__(self):
        return "S(%r)" % self.raw


class Map:
    __slots__ = ("items", "anchor")

    def __init__(self, items=None, anchor=None):
        self.items = items if items is not None else []   # list of [key Scalar, value node]
        self.anchor = anchor

    def get(self, key):
        for k, v in self.items:
            if isinstance(k, Scalar) and k.text() == key:
                return v
        return None

    def keys(self):
        return [k.text() for k, _ in self.items if isinstance(k, Scalar)]

    def set(self, key, value):
        for it in self.items:
            if isinstance(it[0], Scalar) and it[0].text() == key:
                it[1] = value
                return
        self.items.append([Scalar(key), value])

    def remove(self, key):
        self.items = [it for it in self.items if not (isinstance(it[0], Scalar) and it[0].text() == key)]

    def __repr__(self):
        return "M(%r)" % self.items


class Seq:
    __slots__ = ("items", "anchor")

    def __init__(self, items=None, anchor=None):
        self.items = items if items is not None else []
        self.anchor = anchor

    def __repr__(self):
        return "L(%r)" % self.items


class Alias:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "*" + self.name


# ---------------------------------------------------------------------------------------------
# Reading


def _strip_comment(s):
    """Remove a trailing comment from a line (a '#' after white space, outside quotes)."""
    out, q, i = [], None, 0
    while i < len(s):
        c = s[i]
        if q:
            out.append(c)
            if c == q:
                if q == "'" and i + 1 < len(s) and s[i + 1] == "'":
                    out.append("'")
                    i += 1
                else:
                    q = None
            elif q == '"' and c == "\\" and i + 1 < len(s):
                out.append(s[i + 1])
                i += 1
        else:
            if c == "#" and (i == 0 or s[i - 1] in " \t"):
                break
            if c in "\"'" and (i == 0 or s[i - 1] in " \t[{,:-"):
                q = c
            out.append(c)
        i += 1
    return "".join(out).rstrip()


class _Flow:
    def __init__(self, text):
        self.s = text
        self.i = 0

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] in " \t\n\r":
            self.i += 1

    def node(self):
        self.ws()
        anchor = None
        if self.s.startswith("&", self.i):
            m = re.compile(r"&([^\s,\[\]{}]+)").match(self.s, self.i)
            anchor = m.group(1)
            self.i = m.end()
            self.ws()
        c = self.s[self.i] if self.i < len(self.s) else ""
        if c == "*":
            m = re.compile(r"\*([^\s,\[\]{}]+)").match(self.s, self.i)
            self.i = m.end()
            return Alias(m.group(1))
        if c == "{":
            self.i += 1
            m = Map(anchor=anchor)
            while True:
                self.ws()
                if self.s.startswith("}", self.i):
                    self.i += 1
                    return m
                k = self.scalar(key=True)
                self.ws()
                if self.s.startswith(":", self.i):
                    self.i += 1
                    self.ws()
                    if self.s[self.i] in ",}":
                        v = Scalar("")
                    else:
                        v = self.node()
                else:
                    v = Scalar("")
                m.items.append([k, v])
                self.ws()
                if self.s.startswith(",", self.i):
                    self.i += 1
                elif not self.s.startswith("}", self.i):
                    raise Unsupported("flow map at %r" % self.s[self.i:self.i + 20])
        if c == "[":
            self.i += 1
            q = Seq(anchor=anchor)
            while True:
                self.ws()
                if self.s.startswith("]", self.i):
                    self.i += 1
                    return q
                n = self.node()
                self.ws()
                if self.s.startswith(":", self.i) and isinstance(n, Scalar):
                    self.i += 1
                    v = self.node()
                    n = Map([[n, v]])
                    self.ws()
                q.items.append(n)
                if self.s.startswith(",", self.i):
                    self.i += 1
                elif not self.s.startswith("]", self.i):
                    raise Unsupported("flow seq at %r" % self.s[self.i:self.i + 20])
        sc = self.scalar()
        sc.anchor = anchor
        return sc

    def scalar(self, key=False):
        s, i = self.s, self.i
        if i < len(s) and s[i] in "\"'":
            q = s[i]
            j = i + 1
            while j < len(s):
                if s[j] == "\\" and q == '"':
                    j += 2
                    continue
                if s[j] == q:
                    if q == "'" and j + 1 < len(s) and s[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            self.i = j + 1
            return Scalar(s[i:j + 1])
        j = i
        while j < len(s):
            c = s[j]
            if c in ",[]{}":
                break
            if c == ":" and (j + 1 >= len(s) or s[j + 1] in " \t\n,[]{}"):
                break
            j += 1
        self.i = j
        return Scalar(" ".join(s[i:j].split()))


def _parse_flow(text):
    f = _Flow(text)
    n = f.node()
    f.ws()
    if f.i != len(f.s):
        raise Unsupported("trailing text in flow: %r" % f.s[f.i:])
    return n


def _balanced(text):
    depth, q = 0, None
    i = 0
    while i < len(text):
        c = text[i]
        if q:
            if c == "\\" and q == '"':
                i += 2
                continue
            if c == q:
                q = None
        elif c in "\"'":
            q = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        i += 1
    return depth <= 0 and q is None


_KEY_RE = re.compile(r"""^(?:("(?:[^"\\]|\\.)*")|('(?:[^']|'')*')|([^\s\-?:,\[\]{}#&*!|>'"%@`][^:#]*?|-[^\s:][^:#]*?|<<))\s*:(?:\s+|$)""")


class _Block:
    def __init__(self, text):
        self.lines = []   # (indent, content) with comments removed; blank lines kept as None
        self.raw = text.split("\n")
        for l in self.raw:
            if l.strip().startswith("%"):
                raise Unsupported("directive")
            self.lines.append(l)
        self.n = 0

    def _indent(self, l):
        return len(l) - len(l.lstrip(" "))

    def skip_blank(self):
        while self.n < len(self.lines):
            c = _strip_comment(self.lines[self.n]).strip()
            if c == "" or c == "---" or c == "...":
                self.n += 1
            else:
                return
    def peek(self):
        self.skip_blank()
        if self.n >= len(self.lines):
            return None
        return self._indent(self.lines[self.n])

    def parse(self):
        ind = self.peek()
        if ind is None:
            return None
        return self.node_at(ind)

    def node_at(self, ind):
        line = _strip_comment(self.lines[self.n])[ind:]
        if line.startswith("- ") or line == "-":
            return self.seq(ind)
        return self.map(ind)

    def rest_value(self, text, key_ind):
        """A value written after 'key:' or '- ' on the line self.n-1 (already consumed): text is what
        follows. Returns the node; may consume continuation lines."""
        anchor = None
        m = re.match(r"&(\S+)\s*(.*)$", text)
        if m:
            anchor, text = m.group(1), m.group(2)
        if text.startswith("!"):
            raise Unsupported("tag")
        if text == "":
            # nested block, or empty (null)
            ind = self.peek()
            if ind is not None and (ind > key_ind or (ind == key_ind and _strip_comment(self.lines[self.n])[ind:].startswith("-"))):
                node = self.node_at(ind)
                if isinstance(node, Scalar):
                    raise Unsupported("anchor on a scalar line")
                node.anchor = anchor
                return node
            s = Scalar("")
            s.anchor = anchor
            return s
        if text[0] in ">|":
            # block scalar: take every more-indented (or blank) line
            head = text
            body = []
            while self.n < len(self.lines):
                l = self.lines[self.n]
                if l.strip() == "" or self._indent(l) > key_ind:
                    body.append(l)
                    self.n += 1
                else:
                    break
            while body and body[-1].strip() == "":
                body.pop()
            s = Scalar(head + "\n" + "\n".join(body) if body else head)
            s.anchor = anchor
            return s
        if text[0] in "[{" or (text[0] in "\"'" and not _balanced(text)):
            while not _balanced(text):
                if self.n >= len(self.lines):
                    raise Unsupported("unbalanced flow")
                text += "\n" + _strip_comment(self.lines[self.n])
                self.n += 1
            node = _parse_flow(text)
            if anchor:
                node.anchor = anchor
            return node
        if text[0] == "*":
            return Alias(text[1:].strip())
        # plain (or quoted) scalar, maybe with continuation lines
        while self.n < len(self.lines):
            l = self.lines[self.n]
            c = _strip_comment(l)
            if c.strip() and self._indent(l) > key_ind and text[0] not in "\"'":
                text += " " + c.strip()
                self.n += 1
            else:
                break
        s = _parse_flow(text) if text[0] in "\"'" else Scalar(text)
        s.anchor = anchor
        return s

    def map(self, ind):
        m = Map()
        while True:
            cur = self.peek()
            if cur is None or cur < ind:
                return m
            if cur > ind:
                raise Unsupported("bad indentation at line %d" % (self.n + 1))
            line = _strip_comment(self.lines[self.n])[ind:]
            if line.startswith("- "):
                return m
            km = _KEY_RE.match(line)
            if not km:
                raise Unsupported("not a key at line %d: %r" % (self.n + 1, line))
            kraw = (km.group(1) or km.group(2) or km.group(3)).rstrip()
            self.n += 1
            v = self.rest_value(line[km.end():].strip(), ind)
            m.items.append([Scalar(kraw), v])

    def seq(self, ind):
        q = Seq()
        while True:
            cur = self.peek()
            if cur is None or cur < ind:
                return q
            line = _strip_comment(self.lines[self.n])[ind:]
            if cur != ind or not (line.startswith("- ") or line == "-"):
                return q
            rest = line[1:].lstrip(" ")
            sub = ind + len(line) - len(rest)
            if rest == "":
                self.n += 1
                q.items.append(self.rest_value("", ind))
                continue
            km = _KEY_RE.match(rest) if rest[0] not in "[{" else None
            if km:
                # a mapping that starts on the dash line: rewrite the line as its first key
                self.lines[self.n] = " " * sub + rest
                q.items.append(self.map(sub))
            elif rest.startswith("- "):
                self.lines[self.n] = " " * sub + rest
                q.items.append(self.seq(sub))
            else:
                self.n += 1
                q.items.append(self.rest_value(rest, ind))


def split_documents(text):
    """Split a multi-document file into (start_line, text) pieces at '---' lines."""
    docs, cur, start = [], [], 1
    for i, l in enumerate(text.split("\n")):
        if re.match(r"^---(\s|$)", l):
            if any(x.strip() and not x.strip().startswith("#") for x in cur):
                docs.append((start, "\n".join(cur)))
            cur, start = [], i + 2
            rest = l[3:].strip()
            if rest and not rest.startswith("#"):
                raise Unsupported("content on the --- line")
            continue
        cur.append(l)
    if any(x.strip() and not x.strip().startswith("#") for x in cur):
        docs.append((start, "\n".join(cur)))
    return docs


def parse(text):
    b = _Block(text)
    n = b.parse()
    if b.peek() is not None:
        raise Unsupported("text after the document at line %d" % (b.n + 1))
    return n


# ---------------------------------------------------------------------------------------------
# Writing

_NEEDS_QUOTES_FLOW = re.compile(r"[,\[\]{}]|: |:$| #|^[&*!|>%@`]")


def _scalar_out(s, flow):
    r = s.raw
    if r and r[0] in ">|":
        if flow:
            return json.dumps(s.text())
        return r
    if flow and s.plain and _NEEDS_QUOTES_FLOW.search(r):
        return json.dumps(r)
    return r


def _anchor(n):
    return ("&" + n.anchor + " ") if getattr(n, "anchor", None) else ""


def flow(n):
    if isinstance(n, Alias):
        return "*" + n.name
    if isinstance(n, Scalar):
        return _anchor(n) + _scalar_out(n, True)
    if isinstance(n, Map):
        parts = []
        for k, v in n.items:
            vs = flow(v)
            parts.append(_scalar_out(k, True) + ": " + vs)     # `{exit: }`: a ':' needs a space after it
        return _anchor(n) + "{" + ", ".join(parts) + "}"
    if isinstance(n, Seq):
        return _anchor(n) + "[" + ", ".join(flow(x) for x in n.items) + "]"
    raise TypeError(n)


def _is_flowish(n):
    return isinstance(n, (Scalar, Alias)) or (isinstance(n, (Map, Seq)) and not n.items)


def block(n, indent=0, flow_below=None, depth=0):
    """Block style. flow_below: depth from which collections are written in flow style (None: never)."""
    pad = " " * indent
    out = []
    if isinstance(n, Map):
        for k, v in n.items:
            key = _scalar_out(k, False)
            if _is_flowish(v) or (flow_below is not None and depth + 1 >= flow_below):
                vs = flow(v) if not isinstance(v, Scalar) else _anchor(v) + _block_scalar(v, indent)
                out.append(pad + key + ":" + (" " + vs if vs else ""))
            else:
                out.append(pad + key + ":" + (" " + _anchor(v).strip() if _anchor(v) else ""))
                out.extend(block(v, indent + 2, flow_below, depth + 1))
        return out
    if isinstance(n, Seq):
        for v in n.items:
            if _is_flowish(v) or (flow_below is not None and depth + 1 >= flow_below):
                vs = flow(v) if not isinstance(v, Scalar) else _anchor(v) + _block_scalar(v, indent)
                out.append(pad + "-" + (" " + vs if vs else ""))
            else:
                sub = block(v, indent + 2, flow_below, depth + 1)
                if _anchor(v):
                    out.append(pad + "- " + _anchor(v).strip())
                    out.extend(sub)
                else:
                    out.append(pad + "- " + sub[0][indent + 2:])
                    out.extend(sub[1:])
        return out
    raise TypeError(n)


def _block_scalar(s, indent):
    r = s.raw
    if r and r[0] in ">|":
        head, _, body = r.partition("\n")
        lines = body.split("\n")
        ind = min((len(l) - len(l.lstrip(" ")) for l in lines if l.strip()), default=0)
        return head + "\n" + "\n".join((" " * (indent + 2) + l[ind:]) if l.strip() else "" for l in lines)
    return r


def dump(n, flow_below=None):
    return "\n".join(block(n, 0, flow_below)) + "\n"


def copy(n):
    if isinstance(n, Scalar):
        return Scalar(n.raw, n.anchor)
    if isinstance(n, Alias):
        return Alias(n.name)
    if isinstance(n, Map):
        return Map([[copy(k), copy(v)] for k, v in n.items], n.anchor)
    if isinstance(n, Seq):
        return Seq([copy(x) for x in n.items], n.anchor)
    raise TypeError(n)


def resolve(n, anchors=None, keyof=None):
    """A copy with aliases replaced by copies of their anchored nodes and merge keys written out
    (a mapping's own keys win over merged ones; in `<<: [*a, *b]` the earlier one wins). Anchors are
    dropped. keyof(path, text), when given, says what a key names in the map at `path` (a list of
    key texts), for maps whose keys have several spellings; by default a key is its text."""
    if anchors is None:
        anchors = {}
    if keyof is None:
        keyof = lambda path, t: t  # noqa: E731

    def go(x, path):
        if isinstance(x, Alias):
            if x.name not in anchors:
                raise Unsupported("unknown alias")
            return copy(anchors[x.name])
        r = None
        if isinstance(x, Scalar):
            r = Scalar(x.raw)
        elif isinstance(x, Seq):
            r = Seq([go(i, path) for i in x.items])
        elif isinstance(x, Map):
            own, merged = [], []
            for k, v in x.items:
                if k.raw == "<<":
                    src = go(v, path)
                    srcs = src.items if isinstance(src, Seq) else [src]
                    for sm in srcs:
                        if not isinstance(sm, Map):
                            raise Unsupported("merge of a non-map")
                        for mk, mv in sm.items:
                            if keyof(path, mk.text()) not in [keyof(path, a.text()) for a, _ in merged]:
                                merged.append([mk, mv])
                else:
                    own.append([Scalar(k.raw), go(v, path + [k.text()])])
            ownkeys = [keyof(path, k.text()) for k, _ in own]
            r = Map([it for it in merged if keyof(path, it[0].text()) not in ownkeys] + own)
        if getattr(x, "anchor", None):
            anchors[x.anchor] = r
        return r

    return go(n, [])


def has_alias(n):
    if isinstance(n, Alias):
        return True
    if isinstance(n, Map):
        return any(k.raw == "<<" or has_alias(v) or has_alias(k) for k, v in n.items)
    if isinstance(n, Seq):
        return any(has_alias(x) for x in n.items)
    return False
