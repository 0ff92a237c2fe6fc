#!/usr/bin/env python3
"""Generate runtime/include/matx_nb/unicode_data.h from CPython's unicodedata.

Usage:
    python3 tools/gen_unicode.py runtime/include/matx_nb/unicode_data.h
    python3 tools/gen_unicode.py --unicodedata runtime/include/matx_nb/mod/unicodedata_data.h

The second form writes the tables of the `unicodedata` module for compiled code
(general category, canonical combining class, full canonical and compatibility
decompositions, primary composites); see main_unicodedata().

Every property is taken from what the running CPython actually does (str
methods on one- to three-character strings), not from a separate copy of the
UCD, so the generated tables reproduce that interpreter's str behaviour
exactly.  The hand-written API over these tables is
runtime/include/matx_nb/unicode.h.

Layout
------
Each code point maps to a *record* (flags, digit value, four case mappings).
Identical records are shared; the record index of a code point is found via a
multi-level trie (index arrays chosen automatically to minimise the size of
the emitted source).  A case mapping is stored as a delta (mapped - c) unless
it expands to several code points, in which case the matching EXT_* flag is
set and the field holds (length << 24) | offset into kExpansions.
"""

import sys
import unicodedata

MAX_CP = 0x110000

# Flag bits (must match unicode.h, which reads them from this header).
FLAGS = [
    "ALPHA",
    "DECIMAL",
    "DIGIT",
    "NUMERIC",
    "SPACE",
    "UPPER",
    "LOWER",
    "TITLE",  # general category Lt (Py_UNICODE_ISTITLE)
    "PRINTABLE",
    "CASED",
    "CASE_IGNORABLE",
    "XID_START",
    "XID_CONTINUE",
    "EXT_LOWER",
    "EXT_UPPER",
    "EXT_TITLE",
    "EXT_FOLD",
]
BIT = {name: 1 << i for i, name in enumerate(FLAGS)}

SIGMA = "\u03a3"


def char_props(c):
    s = chr(c)
    f = 0
    if s.isalpha():
        f |= BIT["ALPHA"]
    if s.isdecimal():
        f |= BIT["DECIMAL"]
    if s.isdigit():
        f |= BIT["DIGIT"]
    if s.isnumeric():
        f |= BIT["NUMERIC"]
    if s.isspace():
        f |= BIT["SPACE"]
    upper = s.isupper()
    if upper:
        f |= BIT["UPPER"]
    if s.islower():
        f |= BIT["LOWER"]
    # One-character istitle() is ISTITLE || ISUPPER.
    title = s.istitle() and not upper
    if title:
        f |= BIT["TITLE"]
    assert title == (unicodedata.category(s) == "Lt"), hex(c)
    if s.isprintable():
        f |= BIT["PRINTABLE"]
    # Cased: str.title() lower-cases the character after a cased one.
    cased = (s + "a").title()[-1] == "a"
    if cased:
        f |= BIT["CASED"]
    # Case_Ignorable, probed through the final-sigma rule of str.lower():
    #   'A' + c + 'Σ'  -> final sigma  iff ignorable(c) or cased(c)
    #   c + 'Σ'        -> final sigma  iff not ignorable(c) and cased(c)
    p1 = ("A" + s + SIGMA).lower()[-1] == "\u03c2"
    p2 = (s + SIGMA).lower()[-1] == "\u03c2"
    p3 = ("A" + SIGMA + s).lower()[1] == "\u03c2"
    ignorable = (not p2) if cased else p1
    assert p3 == (ignorable or not cased), hex(c)
    if ignorable:
        f |= BIT["CASE_IGNORABLE"]
    if s.isidentifier() and c != 0x5F:
        f |= BIT["XID_START"]
    if ("a" + s).isidentifier():
        f |= BIT["XID_CONTINUE"]
    # Cross-check the cased derivation against the Unicode definition.
    assert cased == (upper or s.islower() or title), hex(c)
    return f


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--unicodedata":
        return main_unicodedata(sys.argv[2])
    if len(sys.argv) != 2:
        sys.exit("usage: gen_unicode.py OUTPUT_HEADER")
    out_path = sys.argv[1]

    expansions = []  # flat list of code points
    exp_index = {}  # tuple -> offset

    def encode_mapping(c, mapped, ext_flag):
        if len(mapped) == 1:
            return ord(mapped) - c, 0
        assert 2 <= len(mapped) <= 3, (hex(c), mapped)
        key = tuple(ord(x) for x in mapped)
        off = exp_index.get(key)
        if off is None:
            off = len(expansions)
            exp_index[key] = off
            expansions.extend(key)
        return (len(key) << 24) | off, BIT[ext_flag]

    records = [(0, 0, 0, 0, 0, 0)]  # record 0: no properties, identity
    rec_index = {records[0]: 0}
    cp_rec = [0] * MAX_CP

    for c in range(MAX_CP):
        s = chr(c)
        flags = char_props(c)
        lo, fl = encode_mapping(c, s.lower(), "EXT_LOWER")
        flags |= fl
        up, fl = encode_mapping(c, s.upper(), "EXT_UPPER")
        flags |= fl
        ti, fl = encode_mapping(c, s.title(), "EXT_TITLE")
        flags |= fl
        fo, fl = encode_mapping(c, s.casefold(), "EXT_FOLD")
        flags |= fl
        dec = unicodedata.decimal(s, -1)
        dig = unicodedata.digit(s, -1)
        assert (dec >= 0) == s.isdecimal(), hex(c)
        assert (dig >= 0) == s.isdigit(), hex(c)
        assert dec < 0 or dec == dig, hex(c)
        value = dig if dig >= 0 else 0
        rec = (flags, value, lo, up, ti, fo)
        idx = rec_index.get(rec)
        if idx is None:
            idx = len(records)
            rec_index[rec] = idx
            records.append(rec)
        cp_rec[c] = idx

    trie = best_trie(cp_rec)

    lines = []
    w = lines.append
    w("// Generated by tools/gen_unicode.py from unicodedata version %s (Python %d.%d)."
      % (unicodedata.unidata_version, sys.version_info[0], sys.version_info[1]))
    w("// DO NOT EDIT: this file is generated; change the generator and regenerate.")
    w("// Regenerate with: python3 tools/gen_unicode.py runtime/include/matx_nb/unicode_data.h")
    w("// Use through runtime/include/matx_nb/unicode.h.")
    w("#pragma once")
    w("#include <cstdint>")
    w("")
    w("namespace mx {")
    w("namespace unicode {")
    w("namespace detail {")
    w("")
    w('inline constexpr const char kUnidataVersion[] = "%s";' % unicodedata.unidata_version)
    w("")
    for name in FLAGS:
        w("inline constexpr std::uint32_t F_%s = 0x%XU;" % (name, BIT[name]))
    w("")
    w("struct Record {")
    w("  std::uint32_t flags;")
    w("  std::int32_t value;  // digit value (valid when F_DIGIT is set)")
    w("  std::int32_t lower;  // delta, or (len << 24) | offset when F_EXT_LOWER")
    w("  std::int32_t upper;")
    w("  std::int32_t title;")
    w("  std::int32_t fold;")
    w("};")
    w("")
    w("inline constexpr Record kRecords[%d] = {" % len(records))
    for r in records:
        w("{0x%X,%d,%d,%d,%d,%d}," % r)
    w("};")
    w("")
    w(emit_array("kExpansions", "char32_t", expansions))
    w("")
    # ASCII fast-path flags (so ASCII never touches the trie).
    w(emit_array("kAsciiFlags", "std::uint32_t",
                 [records[cp_rec[c]][0] for c in range(128)], hexfmt=True))
    w("")
    shifts, arrays = trie
    w("// Trie: %d levels, shifts %s." % (len(arrays), shifts))
    for i, s in enumerate(shifts):
        w("inline constexpr unsigned kShift%d = %d;" % (i, s))
    for i, arr in enumerate(arrays):
        w(emit_array("kIndex%d" % i, ctype_for(arr), arr))
    w("")
    w("inline std::uint32_t record_index(char32_t c) noexcept {")
    w("  if (c >= 0x%XU) return 0;" % MAX_CP)
    w("  std::uint32_t c32 = static_cast<std::uint32_t>(c);")
    # Build lookup code.
    if len(arrays) == 2:
        s0 = shifts[0]
        w("  std::uint32_t i = kIndex0[c32 >> kShift0];")
        w("  return kIndex1[(i << kShift0) + (c32 & ((1U << kShift0) - 1))];")
    else:
        s0, s1 = shifts
        w("  std::uint32_t i = kIndex0[c32 >> (kShift0 + kShift1)];")
        w("  i = kIndex1[(i << kShift0) + ((c32 >> kShift1) & ((1U << kShift0) - 1))];")
        w("  return kIndex2[(i << kShift1) + (c32 & ((1U << kShift1) - 1))];")
    w("}")
    w("")
    w("inline const Record& record(char32_t c) noexcept {")
    w("  return kRecords[record_index(c)];")
    w("}")
    w("")
    w("}  // namespace detail")
    w("}  // namespace unicode")
    w("}  // namespace mx")
    text = "\n".join(lines) + "\n"

    # Self-check the trie before writing.
    verify_trie(cp_rec, trie)

    with open(out_path, "w", encoding="ascii", newline="\n") as fp:
        fp.write(text)
    sys.stderr.write("wrote %s: %d bytes, %d records, %d expansion code points, trie %s sizes %s\n"
                     % (out_path, len(text), len(records), len(expansions), shifts,
                        [len(a) for a in arrays]))


def ctype_for(arr):
    m = max(arr) if arr else 0
    if m < 256:
        return "std::uint8_t"
    if m < 65536:
        return "std::uint16_t"
    return "std::uint32_t"


def emit_array(name, ctype, values, hexfmt=False, per_line=None):
    if hexfmt:
        items = ["0x%X" % v for v in values]
    else:
        items = ["%d" % v for v in values]
    out = ["inline constexpr %s %s[%d] = {" % (ctype, name, max(len(values), 1))]
    line = ""
    for it in items:
        if len(line) + len(it) + 1 > 100:
            out.append(line)
            line = ""
        line += it + ","
    if line:
        out.append(line)
    if not items:
        out.append("0")
    out.append("};")
    return "\n".join(out)


def split(t, shift):
    """Split t into blocks of 2**shift; return (block_index_list, blocks_flat)."""
    size = 1 << shift
    assert len(t) % size == 0
    blocks = {}
    index = []
    flat = []
    for i in range(0, len(t), size):
        b = tuple(t[i:i + size])
        j = blocks.get(b)
        if j is None:
            j = len(blocks)
            blocks[b] = j
            flat.extend(b)
        index.append(j)
    return index, flat


def text_cost(arr):
    # Approximate emitted bytes: digits + comma.
    return sum(len(str(v)) + 1 for v in arr)


def best_trie(t):
    best = None
    # Two-level.
    for s in range(4, 12):
        idx, flat = split(t, s)
        cost = text_cost(idx) + text_cost(flat)
        cand = (cost, [s], [idx, flat])
        if best is None or cost < best[0]:
            best = cand
    # Three-level.
    for s1 in range(3, 10):
        mid, flat = split(t, s1)
        for s0 in range(2, 10):
            if len(mid) % (1 << s0):
                continue
            top, mid2 = split(mid, s0)
            cost = text_cost(top) + text_cost(mid2) + text_cost(flat)
            if cost < best[0]:
                best = (cost, [s0, s1], [top, mid2, flat])
    return best[1], best[2]


def verify_trie(t, trie):
    shifts, arrays = trie
    for c in range(MAX_CP):
        if len(arrays) == 2:
            s0 = shifts[0]
            i = arrays[0][c >> s0]
            r = arrays[1][(i << s0) + (c & ((1 << s0) - 1))]
        else:
            s0, s1 = shifts
            i = arrays[0][c >> (s0 + s1)]
            i = arrays[1][(i << s0) + ((c >> s1) & ((1 << s0) - 1))]
            r = arrays[2][(i << s1) + (c & ((1 << s1) - 1))]
        assert r == t[c], hex(c)


# ---- unicodedata: category, combining class, normalization ----------------------
CATEGORIES = ["Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps",
              "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"]
HANGUL_S, HANGUL_COUNT = 0xAC00, 11172


def main_unicodedata(out_path):
    """Tables for mod/unicodedata.h, all read from the running CPython:

    * a trie from code point to category | combining class << 5;
    * per code point whose NFD or NFKD differs from itself (Hangul syllables
      excepted: they decompose algorithmically), its full decompositions, as
      unicodedata.normalize gives them for the character alone (already in
      canonical order; reordering the whole string later gives the same result);
    * the primary composites: a two-character canonical decomposition (a, b) of c
      with NFC(a + b) == c (which leaves out the composition exclusions).
    """
    t = []
    for c in range(MAX_CP):
        ch = chr(c)
        t.append(CATEGORIES.index(unicodedata.category(ch)) | (unicodedata.combining(ch) << 5))
    trie = best_trie(t)
    verify_trie(t, trie)

    data, cps, nfd, nfkd = [], [], [], []

    def put(seq):
        data.extend(ord(x) for x in seq)
        assert len(seq) < 32
        return ((len(data) - len(seq)) << 5) | len(seq)

    for c in range(MAX_CP):
        if HANGUL_S <= c < HANGUL_S + HANGUL_COUNT or 0xD800 <= c < 0xE000:
            continue
        ch = chr(c)
        d, k = unicodedata.normalize("NFD", ch), unicodedata.normalize("NFKD", ch)
        if d == ch and k == ch:
            continue
        cps.append(c)
        nfd.append(put(d) if d != ch else 0)
        nfkd.append(put(k) if k != ch else (nfd[-1] if d != ch else 0))

    comps = []
    for c in range(MAX_CP):
        dec = unicodedata.decomposition(chr(c))
        if not dec or dec.startswith("<"):
            continue
        parts = [int(x, 16) for x in dec.split()]
        if len(parts) == 2 and unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) == chr(c):
            comps.append(((parts[0] << 21) | parts[1], c))
    comps.sort()

    lines = []
    w = lines.append
    w("// Generated by tools/gen_unicode.py --unicodedata from CPython's unicodedata %s; do not edit."
      % unicodedata.unidata_version)
    w("// Read by mod/unicodedata.h (included only by programs using the unicodedata module).")
    w("#pragma once")
    w("#include <cstdint>")
    w("")
    w("namespace mx::pymod::ucd {")
    w("")
    w('inline constexpr const char kUnidataVersion[] = "%s";' % unicodedata.unidata_version)
    w("inline constexpr const char* kCategories[%d] = {%s};"
      % (len(CATEGORIES), ", ".join('"%s"' % x for x in CATEGORIES)))
    shifts, arrays = trie
    for i, sh in enumerate(shifts):
        w("inline constexpr unsigned kShift%d = %d;" % (i, sh))
    for i, arr in enumerate(arrays):
        w(emit_array("kIndex%d" % i, ctype_for(arr), arr))
    w("")
    w("// category index | combining class << 5")
    w("inline std::uint32_t props(char32_t c) noexcept {")
    w("  if (c >= 0x%XU) return 0;" % MAX_CP)
    w("  std::uint32_t c32 = static_cast<std::uint32_t>(c);")
    if len(arrays) == 2:
        w("  std::uint32_t i = kIndex0[c32 >> kShift0];")
        w("  return kIndex1[(i << kShift0) + (c32 & ((1U << kShift0) - 1))];")
    else:
        w("  std::uint32_t i = kIndex0[c32 >> (kShift0 + kShift1)];")
        w("  i = kIndex1[(i << kShift0) + ((c32 >> kShift1) & ((1U << kShift0) - 1))];")
        w("  return kIndex2[(i << kShift1) + (c32 & ((1U << kShift1) - 1))];")
    w("}")
    w("")
    w("// Decompositions: kDecompCp sorted; kDecompNfd/kDecompNfkd hold offset << 5 | length")
    w("// into kDecompData (0: the character is its own decomposition).")
    w("inline constexpr int kDecompCount = %d;" % len(cps))
    w(emit_array("kDecompCp", "std::uint32_t", cps))
    w(emit_array("kDecompNfd", "std::uint32_t", nfd))
    w(emit_array("kDecompNfkd", "std::uint32_t", nfkd))
    w(emit_array("kDecompData", "char32_t", data))
    w("")
    w("// Primary composites: kCompKey sorted (first << 21 | second), kCompValue the composite.")
    w("inline constexpr int kCompCount = %d;" % len(comps))
    w(emit_array("kCompKey", "std::uint64_t", [k for k, _ in comps]))
    w(emit_array("kCompValue", "std::uint32_t", [v for _, v in comps]))
    w("")
    w("}  // namespace mx::pymod::ucd")
    text = "\n".join(lines) + "\n"
    with open(out_path, "w", encoding="ascii", newline="\n") as fp:
        fp.write(text)
    sys.stderr.write("wrote %s: %d bytes, %d decompositions (%d code points), %d composites, trie %s\n"
                     % (out_path, len(text), len(cps), len(data), len(comps), [len(a) for a in arrays]))


if __name__ == "__main__":
    main()
