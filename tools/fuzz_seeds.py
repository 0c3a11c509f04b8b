#!/usr/bin/env python3
"""Writes the fuzz harnesses' seed corpora (tests/fuzz/corpus/<harness>/seed-*) from small slices of the real
files: a few MNIST / Fashion-MNIST images and labels (IDX headers rewritten to the slice's size), two CIFAR-10
records, the first AG News rows, the first rows of each Cora text file, the shipped experiment configs with
overrides, a run.json, the first rows of result CSVs, and two minimal ELF shared objects (with and
without the plugin ABI stamp section). Plain Python (no torch). Run from the repository root:
    python3 tools/fuzz_seeds.py [DATA_ROOT]        (default ../shared/data, or $LRBENCH_DATA)
"""
import gzip, json, os, struct, sys

root = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LRBENCH_DATA", "../shared/data")
out = "tests/fuzz/corpus"


def put(harness, name, data):
    d = os.path.join(out, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def idx_slice(path, n):
    raw = gzip.open(path).read()
    ndim = raw[3]
    dims = list(struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim]))
    per = 1
    for d in dims[1:]:
        per *= d
    body = raw[4 + 4 * ndim: 4 + 4 * ndim + n * per]
    return bytes([ndim - 1]) + raw[:4] + struct.pack(">" + "I" * ndim, n, *dims[1:]) + body  # byte 0: harness ndim


for ds, d in (("mnist", os.path.join(root, "mnist")), ("fashion", "/usr/share/datasets/fashion-mnist")):
    put("idx", ds + "-images", idx_slice(os.path.join(d, "t10k-images-idx3-ubyte.gz"), 2))
    put("idx", ds + "-labels", idx_slice(os.path.join(d, "t10k-labels-idx1-ubyte.gz"), 16))

cifar = os.path.join(root, "cifar10", "cifar-10-batches-bin-LOSSY-JPEG-q75", "test_batch.bin.gz")
with gzip.open(cifar, "rb") as f:
    put("cifar", "two-records", f.read(2 * 3073))

with open(os.path.join(root, "ag_news", "test.csv"), "rb") as f:
    lines = f.read().split(b"\n")
put("ag_news", "first-rows", b"\n".join(lines[:6]) + b"\n")
put("ag_news", "escapes", b"\n".join(l for l in lines if b"#39;" in l or b"&lt;" in l or b'""' in l)[:4000] + b"\n")

for name, n in (("cora.content", 3), ("cora.cites", 20), ("cora.split.train.txt", 10)):
    with open(os.path.join(root, "cora", "text", name), "rb") as f:
        put("cora", name, b"".join(f.readlines()[:n]))

for cfg, overrides in (("demo.yaml", ["trainer=lr-l", "train.epochs=2", "model.hidden=[512]"]),
                       ("table3.yaml", ["model=gat", "trainer.copies=4", "dataset.poison=dice"]),
                       ("table2.yaml", ["model=lstm", "train.optimizer.lr=0.01"])):
    with open(os.path.join("experiments", cfg)) as f:
        text = f.read()
    put("config", cfg, text)
    put("config", cfg + "-overrides", text + "%%\n" + "\n".join(overrides) + "\n")

record = {"experiment": "demo", "spec_hash": "e37898817edc2c39", "seed": 0, "status": "running",
          "checkpoint": {"file": "checkpoint.pt", "sha256": "ab" * 32, "epoch": 2}, "started": "2026-12-01T06:00:00Z"}
put("run_record", "running", json.dumps(record, indent=2) + "\n")
record.update(status="finished", final_test_acc=85.94)
put("run_record", "finished", json.dumps(record, indent=2) + "\n")
failed = {k: v for k, v in record.items() if k not in ("checkpoint", "final_test_acc")}
failed.update(status="failed", failure="diverged",
              error="a value overflowed float32 during training; lower train.optimizer.lr (now 1e+38)")
put("run_record", "failed-before-checkpoint", json.dumps(failed, indent=2) + "\n")

for name, path in (("table1", "results/table1.csv"), ("expected", "reports/expected/regression.csv")):
    with open(path, "rb") as f:
        put("csv", name, b"".join(f.readlines()[:5]))


def elf_so(sections):
    """A minimal ELF64 little-endian shared object: the header, each (name, type, data) section's bytes, the
    section names, then the section table (null section first, .shstrtab last)."""
    names = b"\0" + b"".join(n.encode() + b"\0" for n, _, _ in sections) + b".shstrtab\0"
    body, headers, off, name_at = b"", [b"\0" * 64], 64, 1
    for n, kind, data in sections + [(".shstrtab", 3, names)]:
        headers.append(struct.pack("<IIQQQQIIQQ", name_at, kind, 0, 0, off, len(data), 0, 0, 1, 0))
        body, off, name_at = body + data, off + len(data), name_at + len(n) + 1
    ident = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    head = ident + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, 0, off, 0, 64, 0, 0, 64, len(headers), len(headers) - 1)
    return head + body + b"".join(headers)


stamp = b"lrbench 0.1.0; torch 1.13.0; gxx-abi 1017; cxx11-abi 1\0"
put("plugin_abi", "stamped", elf_so([(".text", 1, b"\xc3" * 16), (".lrbench_abi", 1, stamp)]))
put("plugin_abi", "unstamped", elf_so([(".text", 1, b"\xc3" * 16)]))
