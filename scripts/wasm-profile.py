#!/usr/bin/env python3
"""Where the WASM bundle's bytes go, by crate: a size profile for BENCHMARKS.md.

Reads the frontend's .wasm as rustc wrote it (before wasm-bindgen and
wasm-opt strip the names), sizes every function body from the code section,
names it from the `name` section, and adds up by the crate in its mangled
name. Generic functions are counted under the crate that defines them, so
`tachys` (the view layer) carries the views each page instantiates.

    python3 scripts/wasm-profile.py [target/front/.../frontend.wasm] [top N]
"""
import re
import sys
from collections import Counter

DEFAULT = "target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm"


def leb(data, i):
    result = shift = 0
    while True:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, i


def sections(data):
    i = 8
    while i < len(data):
        sid = data[i]
        size, i = leb(data, i + 1)
        yield sid, data[i:i + size]
        i += size


GENERIC = {"core", "alloc", "std", "serde", "serde_core"}


def crate_of(name):
    # Trait impls `<Type as Trait>::f` mangle as _ZN..._$LT$Type$u20$as$u20$Trait$GT$:
    # count them where the code lives, the trait's crate, unless the trait
    # is a std/serde one, then the first crate named in the type.
    impl = re.search(r"_\$LT\$(.*?)\$u20\$as\$u20\$([a-z_0-9]+)\.\.", name)
    if impl:
        if impl.group(2) not in GENERIC:
            return impl.group(2)
        for crate in re.findall(r"([a-z_][a-z_0-9]*)\.\.", impl.group(1)):
            if crate not in GENERIC:
                return crate
        return impl.group(2)
    # Legacy mangling: _ZN<len><ident>...
    m = re.match(r"_ZN(\d+)", name)
    if m:
        n = int(m.group(1))
        start = m.end()
        return name[start:start + n]
    if name.startswith("_R"):
        return "(v0 mangled)"
    return "(" + name.split("::")[0][:30] + ")"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    data = open(path, "rb").read()
    imported = 0
    bodies = []
    names = {}
    data_bytes = 0
    for sid, body in sections(data):
        if sid == 2:  # imports: functions among them take the first indices
            count, j = leb(body, 0)
            for _ in range(count):
                for _ in range(2):
                    n, j = leb(body, j)
                    j += n
                kind = body[j]
                j += 1
                if kind == 0:
                    _, j = leb(body, j)
                    imported += 1
                elif kind == 1:
                    j += 1
                    flags, j = leb(body, j)
                    _, j = leb(body, j)
                    if flags & 1:
                        _, j = leb(body, j)
                elif kind == 2:
                    flags, j = leb(body, j)
                    _, j = leb(body, j)
                    if flags & 1:
                        _, j = leb(body, j)
                elif kind == 3:
                    j += 2
        elif sid == 10:  # code
            count, j = leb(body, 0)
            for _ in range(count):
                size, j2 = leb(body, j)
                bodies.append(size + (j2 - j))
                j = j2 + size
        elif sid == 11:
            data_bytes = len(body)
        elif sid == 0:
            n, j = leb(body, 0)
            if body[j:j + n] != b"name":
                continue
            j += n
            while j < len(body):
                sub = body[j]
                size, j = leb(body, j + 1)
                if sub == 1:
                    count, k = leb(body, j)
                    for _ in range(count):
                        idx, k = leb(body, k)
                        ln, k = leb(body, k)
                        names[idx] = body[k:k + ln].decode("utf-8", "replace")
                        k += ln
                j += size
    by_crate = Counter()
    for i, size in enumerate(bodies):
        by_crate[crate_of(names.get(imported + i, "?"))] += size
    code = sum(bodies)
    print(f"{path}: {len(data)} B, code {code} B in {len(bodies)} functions, data {data_bytes} B")
    print("| crate | code bytes | share of code |")
    print("|---|---|---|")
    for crate, size in by_crate.most_common(top):
        print(f"| `{crate}` | {size} | {100 * size / code:.1f}% |")


if __name__ == "__main__":
    main()
