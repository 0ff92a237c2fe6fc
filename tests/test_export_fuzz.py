"""A spec fuzzer (issue 15): mutates saved pipeline folders (spec fields, types,
paths, file truncations and replacements, symbolic links, FIFOs, signatures) and
runs matx_nb.load and matx-run on each, for a bounded time
(MATX_NB_FUZZ_SECONDS, default 45; MATX_NB_FUZZ_SEED picks the sequence).

It demands:
  * 0 crashes: every attempt ends in a result or an exception (a worker process
    that dies of a signal, or hangs, is a failure; matx-run never prints a
    traceback and never dies of a signal);
  * 0 accesses outside the folder: an LD_PRELOAD shim logs every open, dlopen
    and opendir of a path in the "outside" folder (a canary file, a library
    whose constructor would leave a marker), the marker must not appear, and no
    output may contain the canary's content;
  * 0 signature bypasses: loaded with trusted_keys, a folder whose spec or
    files were changed is refused.
"""
import base64
import hashlib
import json
import os
import random
import selectors
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import export_ops as ops
import matx_nb

ROOT = Path(__file__).resolve().parents[1]
SPEC = "model.spec.json"
SECONDS = float(os.environ.get("MATX_NB_FUZZ_SECONDS", "45"))
SEED = int(os.environ.get("MATX_NB_FUZZ_SEED", "1515"))
CANARY = "CANARY-CONTENT-7f3a9c"

SHIM = r"""
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Logs each open/dlopen/opendir that succeeds on a path under $MATX_FUZZ_OUTSIDE to $MATX_FUZZ_LOG
   (an attempt refused by O_NOFOLLOW is not an access). */
static void note(const char* what, const char* path, int ok) {
  const char* outside = getenv("MATX_FUZZ_OUTSIDE");
  const char* log = getenv("MATX_FUZZ_LOG");
  if (!ok || !outside || !log || !path) return;
  char real[PATH_MAX];
  const char* p = realpath(path, real) ? real : path;
  if (strncmp(p, outside, strlen(outside)) != 0 && !strstr(path, outside)) return;
  int fd = (int)syscall(SYS_openat, AT_FDCWD, log, O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0) return;
  char line[PATH_MAX + 64];
  int n = snprintf(line, sizeof line, "%s %s\n", what, path);
  if (n > 0) syscall(SYS_write, fd, line, (size_t)n);
  syscall(SYS_close, fd);
}
#define NEXT(name) static __typeof__(name)* next_##name; if (!next_##name) next_##name = dlsym(RTLD_NEXT, #name)
#define OPEN(call, what) do { int r_ = call; note(what, path, r_ >= 0); return r_; } while (0)
int open(const char* path, int flags, ...) {
  va_list ap; va_start(ap, flags); mode_t m = va_arg(ap, mode_t); va_end(ap);
  NEXT(open); OPEN(next_open(path, flags, m), "open");
}
int open64(const char* path, int flags, ...) {
  va_list ap; va_start(ap, flags); mode_t m = va_arg(ap, mode_t); va_end(ap);
  NEXT(open64); OPEN(next_open64(path, flags, m), "open64");
}
int openat(int dir, const char* path, int flags, ...) {
  va_list ap; va_start(ap, flags); mode_t m = va_arg(ap, mode_t); va_end(ap);
  NEXT(openat); OPEN(next_openat(dir, path, flags, m), "openat");
}
int openat64(int dir, const char* path, int flags, ...) {
  va_list ap; va_start(ap, flags); mode_t m = va_arg(ap, mode_t); va_end(ap);
  NEXT(openat64); OPEN(next_openat64(dir, path, flags, m), "openat64");
}
FILE* fopen(const char* path, const char* mode) {
  NEXT(fopen); FILE* f = next_fopen(path, mode); note("fopen", path, f != NULL); return f;
}
FILE* fopen64(const char* path, const char* mode) {
  NEXT(fopen64); FILE* f = next_fopen64(path, mode); note("fopen64", path, f != NULL); return f;
}
void* dlopen(const char* path, int flags) {
  NEXT(dlopen); void* h = next_dlopen(path, flags); note("dlopen", path, h != NULL); return h;
}
DIR* opendir(const char* path) {
  NEXT(opendir); DIR* d = next_opendir(path); note("opendir", path, d != NULL); return d;
}
"""

# One attempt per line on stdin: {"i", "folder", "feeds", "kw"}; the answer on stdout.
WORKER = textwrap.dedent("""
    import faulthandler, json, signal, sys
    faulthandler.register(signal.SIGUSR1)  # the fuzzer asks for the stacks of a hung attempt
    import matx_nb
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    for line in sys.stdin:
        job = json.loads(line)
        print(json.dumps({"start": job["i"]}), flush=True)
        kw = dict(job["kw"])
        if "trusted_keys" in kw:
            kw["trusted_keys"] = [bytes.fromhex(k) for k in kw["trusted_keys"]]
        try:
            out = matx_nb.load(job["folder"], **kw).run(job["feeds"])
            res = {"ok": repr(out)[:2000]}
        except matx_nb.PipelineError as e:
            res = {"pipeline_error": str(e)[:2000]}
        except Exception as e:
            res = {"error": type(e).__name__, "message": str(e)[:2000]}
        res["end"] = job["i"]
        print(json.dumps(res), flush=True)
""")


def sha(path) -> str:
    return hashlib.sha256(read(path)).hexdigest()


def read(path, limit=1 << 24) -> bytes:
    """A regular file's bytes (a mutated folder may hold links to /dev/zero or FIFOs)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError(f"{path} is not a regular file")
        return f.read(limit)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Base folders (plain and signed), the outside canaries, the shim."""
    pytest.importorskip("cryptography")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    w = tmp_path_factory.mktemp("fuzz")
    outside = w / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(CANARY + "\n")
    marker = outside / "EVIL-RAN"
    (outside / "evil.c").write_text(
        f'#include <stdio.h>\n__attribute__((constructor)) static void ran(void) {{\n'
        f'  FILE* f = fopen("{marker}", "w"); if (f) fclose(f); }}\n'
        'void* matx_nb_module(void) { return 0; }\nint mx_torch_load(void) { return 0; }\n')
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(outside / "evil.so"), str(outside / "evil.c")], check=True)
    (outside / "ops" / "lib0").mkdir(parents=True)
    shutil.copy(outside / "evil.so", outside / "ops" / "lib0" / "lib.so")
    shim_dir = w / "shim"
    shim_dir.mkdir()
    (shim_dir / "shim.c").write_text(SHIM)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(shim_dir / "shim.so"), str(shim_dir / "shim.c"),
                    "-ldl"], check=True)
    inside_evil = w / "inside.so"  # code replacing a library inside a folder: the folder's own code
    (w / "inside.c").write_text("int matx_nb_inside_marker;\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(inside_evil), str(w / "inside.c")], check=True)

    key = Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    bases = []
    seed = w / "bases" / "seed"
    matx_nb.trace(ops.WorkFlow().process, ["hello", "world"]).save(seed, sign_key=key)
    bases.append((seed, {"texts": ["hello", "x"]}))
    vocab = w / "vocab.txt"
    vocab.write_text("[UNK]\nhello\nworld\n")
    vp = w / "bases" / "vp"
    matx_nb.trace(ops.VocabPipeline(str(vocab)).process, "hello", 3).save(vp, resources=[vocab], sign_key=key)
    bases.append((vp, {"text": "hello world x", "n": 3}))
    return {"dir": w, "outside": outside, "marker": marker, "shim": shim_dir / "shim.so", "bases": bases,
            "pub": pub, "inside_evil": inside_evil}


# ---- mutations -------------------------------------------------------------------------

def _walk(v, path=()):
    """Every (path, value) of a JSON value."""
    yield path, v
    if isinstance(v, dict):
        for k, x in v.items():
            yield from _walk(x, path + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from _walk(x, path + (i,))


def _set(spec, path, value):
    obj = spec
    for k in path[:-1]:
        obj = obj[k]
    obj[path[-1]] = value


def _deep(n):
    v = []
    for _ in range(n):
        v = [v]
    return v


class Mutator:
    def __init__(self, rng: random.Random, world, folder: Path):
        self.rng, self.w, self.folder = rng, world, folder
        out = world["outside"]
        rel_up = os.path.relpath(out, folder)
        self.values = [5, -1, 0, None, True, 1.5, "", "x", [], {}, [5], {"a": 1}, [[5]], 2 ** 70,
                       "../" + rel_up + "/secret.txt", str(out / "secret.txt"), str(out / "evil.so"),
                       rel_up + "/evil.so", "/etc/passwd", "ops/lib0", "resources", "ops/lib0/../../x",
                       "./ops/lib0/lib.so", "a\u0000b", "x" * 5000, {"ref": "n9"}, {"const": 1},
                       {"tuple": [{"ref": "texts"}]}, {"resource": "resources"}, {"instance": "op0"},
                       _deep(40), "lib0", "op0", "n1", "texts", "someos-othercpu", "\udcff", 6]

    def entries(self):
        """Everything in the folder, without following links (they may lead outside)."""
        out = []
        for d, dirs, files in os.walk(self.folder, followlinks=False):
            out += [Path(d) / n for n in dirs + files]
        return sorted(out)

    def files(self):
        return [p for p in self.entries() if p.is_file() and not p.is_symlink()]

    def spec(self):
        try:
            return json.loads(read(self.folder / SPEC))
        except Exception:
            return None

    def write(self, spec, rechecksum: bool):
        if rechecksum and isinstance(spec, dict) and isinstance(spec.get("checksums"), dict):
            for rel in list(spec["checksums"]):
                p = self.folder / rel if isinstance(rel, str) and "\0" not in rel else None
                try:
                    if p is not None and p.is_file():
                        spec["checksums"][rel] = sha(p)
                except OSError:
                    pass
        (self.folder / SPEC).write_text(json.dumps(spec))

    def rechecksum(self):
        spec = self.spec()
        if spec is not None:
            self.write(spec, True)

    # each returns a short description
    def set_field(self):
        spec = self.spec()
        paths = [p for p, _ in _walk(spec) if p]
        path = self.rng.choice(paths)
        value = self.rng.choice(self.values)
        _set(spec, path, json.loads(json.dumps(value)) if not isinstance(value, str) else value)
        self.write(spec, self.rng.random() < 0.8)
        return f"set {list(path)} = {str(value)[:40]!r}"

    def delete_field(self):
        spec = self.spec()
        paths = [p for p, _ in _walk(spec) if p]
        path = self.rng.choice(paths)
        obj = spec
        for k in path[:-1]:
            obj = obj[k]
        del obj[path[-1]]
        self.write(spec, self.rng.random() < 0.8)
        return f"delete {list(path)}"

    def escape_path(self):
        """A field that names a file points outside (checksums recomputed to match)."""
        spec = self.spec()
        out = self.w["outside"]
        target = self.rng.choice([out / "evil.so", out / "secret.txt", out / "ops" / "lib0" / "lib.so"])
        spelled = self.rng.choice([str(target), os.path.relpath(target, self.folder),
                                   "ops/../" + os.path.relpath(target, self.folder)])
        fields = []
        for lid, e in spec["libraries"].items():
            fields += [("libraries", lid, "path"), ("libraries", lid, "source")]
        for i, inst in enumerate(spec["instances"]):
            for j, a in enumerate(inst["args"]):
                fields.append(("instances", i, "args", j))
        for i, n in enumerate(spec["nodes"]):
            fields.append(("nodes", i, "args", 0))
        field = self.rng.choice(fields)
        if field[0] == "libraries":
            _set(spec, field, spelled)
        else:
            _set(spec, field, {"resource": spelled})
        spec["checksums"][spelled] = sha(target)
        if field[-1] == "source":
            spec["libraries"][field[1]]["platform"] = "someos-othercpu"
        self.write(spec, False)
        return f"escape {list(field)} -> {spelled}"

    def torch_node(self):
        """A torch node whose model or runner lies outside, or is junk inside."""
        spec = self.spec()
        junk = self.folder / "ops" / "torch"
        junk.mkdir(parents=True, exist_ok=True)
        (junk / "runner.so").write_bytes(self.rng.choice([b"", b"\x7fELF" + os.urandom(60), os.urandom(300)]))
        (self.folder / "resources").mkdir(exist_ok=True)
        (self.folder / "resources" / "t.pt").write_bytes(b"junk")
        out = self.w["outside"]
        runner = self.rng.choice(["ops/torch/runner.so", str(out / "evil.so"), os.path.relpath(out / "evil.so", self.folder)])
        ref = spec["nodes"][0]["id"] if spec["nodes"] else "x"
        spec["nodes"].append({"id": "nT", "op": {"kind": "torch", "model": "t0", "device": -1,
                                                 "path": "resources/t.pt", "runner": runner},
                              "args": [{"ref": ref}], "kwargs": {}})
        spec["checksums"]["resources/t.pt"] = sha(self.folder / "resources/t.pt")
        spec["checksums"][runner] = sha(junk / "runner.so") if runner.startswith("ops/") else sha(out / "evil.so")
        self.write(spec, False)
        return f"torch runner {runner}"

    def truncate(self):
        f = self.rng.choice(self.files())
        data = read(f)
        n = self.rng.choice([0, 1, 10, 64, 200, len(data) // 3, len(data) // 2, max(0, len(data) - 1)])
        f.write_bytes(data[:n])
        re = self.rng.random() < 0.7
        if re:
            self.rechecksum()
        return f"truncate {f.relative_to(self.folder)} to {n}{' (checksums redone)' if re else ''}"

    def flip(self):
        """Changed bytes (checksums not redone: an edited folder)."""
        f = self.rng.choice(self.files())
        data = bytearray(read(f))
        if data:
            for _ in range(self.rng.randint(1, 8)):
                data[self.rng.randrange(len(data))] ^= 1 << self.rng.randrange(8)
        f.write_bytes(bytes(data))
        return f"flip {f.relative_to(self.folder)}"

    def replace(self):
        """A file replaced by junk or another library, checksums redone."""
        f = self.rng.choice([p for p in self.files() if p.name != SPEC] or self.files())
        choice = self.rng.choice(["junk", "inside", "empty", "elfjunk"])
        if choice == "junk":
            f.write_bytes(os.urandom(self.rng.randint(1, 4096)))
        elif choice == "inside":
            shutil.copy(self.w["inside_evil"], f)
        elif choice == "empty":
            f.write_bytes(b"")
        else:
            f.write_bytes(b"\x7fELF\x02\x01\x01" + os.urandom(self.rng.randint(50, 3000)))
        self.rechecksum()
        return f"replace {f.relative_to(self.folder)} by {choice}"

    def symlink(self):
        out = self.w["outside"]
        f = self.rng.choice(self.entries())
        target = self.rng.choice([out / "secret.txt", out / "evil.so", out, out / "ops", f.name, "/dev/zero",
                                  "/dev/stdin", "nowhere"])
        if f.is_dir() and not f.is_symlink():
            shutil.rmtree(f)
        else:
            f.unlink()
        os.symlink(target, f)
        self.rechecksum()
        return f"symlink {f.relative_to(self.folder)} -> {target}"

    def fifo(self):
        f = self.rng.choice([p for p in self.files()])
        f.unlink()
        os.mkfifo(f)
        return f"fifo {f.relative_to(self.folder)}"

    def delete_file(self):
        f = self.rng.choice(self.files())
        f.unlink()
        if self.rng.random() < 0.5:
            self.rechecksum()
        return f"delete {f.relative_to(self.folder)}"

    def spec_bytes(self):
        choice = self.rng.choice(["garbage", "deep", "truncated", "bom", "dupkey", "bigint", "nan"])
        p = self.folder / SPEC
        text = read(p).decode()
        if choice == "garbage":
            p.write_bytes(os.urandom(self.rng.randint(0, 500)))
        elif choice == "deep":
            n = self.rng.choice([500, 5000, 50000])
            p.write_text(text[:-1] + ', "x": ' + "[" * n + "]" * n + "}")
        elif choice == "truncated":
            p.write_text(text[: self.rng.randrange(len(text))])
        elif choice == "bom":
            p.write_bytes(b"\xef\xbb\xbf" + text.encode())
        elif choice == "dupkey":
            p.write_text(text[:-1] + ', "inputs": 5, "instances": null}')
        elif choice == "bigint":
            p.write_text(text.replace('"version": 1', '"version": 100000000000000000000000'))
        else:
            p.write_text(text[:-1] + ', "outputs": NaN}')
        return f"spec bytes: {choice}"

    def signature(self):
        sig = self.folder / "model.spec.sig"
        choice = self.rng.choice(["delete", "garbage", "other"])
        if choice == "delete":
            sig.unlink(missing_ok=True)
        elif choice == "garbage":
            sig.write_bytes(os.urandom(100))
        else:
            d = json.loads(read(sig))
            d["signature"] = base64.b64encode(os.urandom(64)).decode()
            sig.write_text(json.dumps(d))
        return f"signature: {choice}"

    def mutate(self):
        ops_ = [self.set_field] * 6 + [self.delete_field] * 2 + [self.escape_path] * 3 + [self.torch_node] + \
               [self.truncate] * 2 + [self.flip] + [self.replace] * 2 + [self.symlink] * 2 + [self.fifo] + \
               [self.delete_file] + [self.spec_bytes] * 2 + [self.signature]
        done = []
        for _ in range(self.rng.choice([1, 1, 1, 2, 3])):
            try:
                done.append(self.rng.choice(ops_)())
            except (IndexError, KeyError, TypeError, ValueError, OSError, AttributeError):
                pass  # this mutation did not apply to the folder as it is now
        return "; ".join(done) or "none"


def _fingerprint(folder: Path, base_spec: dict):
    """Whether the folder still holds the signed content: the canonical spec and
    every file it lists, byte for byte."""
    from matx_nb.pipeline.export import signed_message
    try:
        spec = json.loads(read(folder / SPEC))
        if signed_message(spec) != signed_message(base_spec):
            return False
        for rel, digest in base_spec["checksums"].items():
            p = folder / rel
            if p.is_symlink() or not p.is_file() or sha(p) != digest:
                return False
        return True
    except Exception:
        return False


class Worker:
    def __init__(self, env):
        self.env = env
        self.start()

    def start(self):
        self.p = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=self.env, cwd=ROOT / "tests")
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.p.stdout, selectors.EVENT_READ)
        self.buf = b""  # read with os.read: a buffered readline would hide lines from select()
        self.runs = 0

    def stop(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        self.p.kill()
        self.p.wait()
        self.p.stderr.close()
        self.p.stdout.close()

    def run(self, job, timeout=60.0):
        """-> ("ok", answer) | ("crash", returncode, stderr) | ("hang",)"""
        if self.runs >= 150:  # libraries stay mapped: a fresh process now and then
            self.stop()
            self.start()
        self.runs += 1
        self.p.stdin.write((json.dumps(job) + "\n").encode())
        self.p.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            if b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                msg = json.loads(line)
                if "end" in msg:
                    return ("ok", msg)
                continue
            left = deadline - time.monotonic()
            if left <= 0 or not self.sel.select(left):
                import signal
                self.p.send_signal(signal.SIGUSR1)
                time.sleep(1.0)
                self.p.kill()
                self.p.wait()
                err = self.p.stderr.read()[-3000:].decode(errors="replace")
                self.stop()
                self.start()
                return ("hang", err)
            chunk = os.read(self.p.stdout.fileno(), 1 << 16)
            if not chunk:
                rc = self.p.wait()
                err = self.p.stderr.read()[-3000:].decode(errors="replace")
                self.stop()
                self.start()
                return ("crash", rc, err)
            self.buf += chunk


def test_spec_fuzzer(world, tmp_path):
    rng = random.Random(SEED)
    log = tmp_path / "outside-access.log"
    env = dict(os.environ, LD_PRELOAD=str(world["shim"]), MATX_FUZZ_OUTSIDE=str(world["outside"]),
               MATX_FUZZ_LOG=str(log), MATX_NB_CACHE=str(tmp_path / "cache"))
    worker = Worker(env)
    failures, stats = [], {"attempts": 0, "refused": 0, "loaded": 0, "errors": 0, "matx_run": 0}
    base_specs = {str(b): json.loads((b / SPEC).read_text()) for b, _ in world["bases"]}
    t_end = time.monotonic() + SECONDS
    i = 0
    try:
        while time.monotonic() < t_end:
            i += 1
            control = i <= len(world["bases"])  # first each base as saved: it must load, signed
            base, feeds = world["bases"][i - 1] if control else rng.choice(world["bases"])
            folder = tmp_path / "f" / f"{i}"
            shutil.copytree(base, folder, symlinks=True)
            what = "none (control)" if control else Mutator(rng, world, folder).mutate()
            signed = control or rng.random() < 0.25
            kw = {"trusted_keys": [world["pub"]]} if signed else {}
            if not control and rng.random() < 0.03:
                kw["rebuild"] = True
            where = f"attempt {i} (seed {SEED}) on {base.name}: {what}"
            stats["attempts"] += 1
            if not control and rng.random() < 0.08:  # matx-run, a process of its own
                stats["matx_run"] += 1
                args = [sys.executable, "-m", "matx_nb.cli", str(folder), "--feed", json.dumps(feeds)]
                if kw.get("rebuild"):
                    args.append("--rebuild")
                try:
                    r = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT / "tests")
                except subprocess.TimeoutExpired:
                    failures.append(f"{where}: matx-run hung")
                    continue
                if r.returncode < 0 or "Traceback" in r.stderr or (r.returncode != 0 and
                                                                 not r.stderr.startswith("matx-run: ")):
                    failures.append(f"{where}: matx-run rc {r.returncode}: {r.stderr[-800:]}")
                if CANARY in r.stdout + r.stderr:
                    failures.append(f"{where}: matx-run printed the outside canary")
                continue
            res = worker.run({"i": i, "folder": str(folder), "feeds": feeds, "kw": kw})
            if res[0] == "hang":
                failures.append(f"{where}: hung: {res[1]}")
                continue
            if res[0] == "crash":
                failures.append(f"{where}: crashed (returncode {res[1]}): {res[2][-800:]}")
                continue
            answer = res[1]
            text = json.dumps(answer)
            if CANARY in text:
                failures.append(f"{where}: the outside canary reached the output: {text[:300]}")
            if control and "ok" not in answer:
                failures.append(f"{where}: the unchanged folder did not load: {text[:500]}")
            if "ok" in answer:
                stats["loaded"] += 1
                if signed and not _fingerprint(folder, base_specs[str(base)]):
                    failures.append(f"{where}: a changed folder loaded with trusted_keys")
            elif "pipeline_error" in answer:
                stats["refused"] += 1
            else:
                stats["errors"] += 1
                stats.setdefault("error_kinds", set()).add(answer["error"])
                if answer["error"] in ("SystemError", "MemoryError"):
                    failures.append(f"{where}: {answer['error']}: {answer['message'][:300]}")
            if log.exists() and log.read_text().strip():
                failures.append(f"{where}: opened outside the folder: {log.read_text()[:500]}")
                log.unlink()
            if world["marker"].exists():
                failures.append(f"{where}: code outside the folder ran")
                world["marker"].unlink()
            if len(failures) >= 10:
                break
            if i % 20 == 0:
                shutil.rmtree(tmp_path / "f", ignore_errors=True)
    finally:
        worker.stop()
    print(f"spec fuzzer: {stats}")
    assert not failures, "\n".join(failures)
    assert stats["attempts"] >= 20 and stats["refused"] > 0 and stats["loaded"] > 0, stats
