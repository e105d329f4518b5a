"""Ledger benchmark: batched appends/s and inclusion-proof time at 1 M entries on SQLite.

Floor measured in the same run: bare hashlib SHA-256 of the same leaves (``0x00 ‖ entry``),
the least work any RFC 9162 log must do per append. Targets: ≥ 100 k appends/s, proof < 1 ms.

    .venv/bin/python benchmarks/bench_ledger.py [--entries 1000000] [--batch 10000]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import tempfile
import time
from pathlib import Path

from carbonlink.ledger import Ledger, merkle
from carbonlink.ledger.entries import EntryDraft, EntryKind, parse_entry
from carbonlink.store import create_store_engine, upgrade


def _entries(count: int) -> list[EntryDraft]:
    """Import-batch entries of about 230 bytes, in RFC 8785 canonical form."""
    template = (
        '{"batch_id":"b-%07d","details":{},"kind":"import-batch","raw_sha256":"%s",'
        '"recorded_at":"2026-01-01T00:00:00Z","records":%d,"rejected":0,'
        '"source":"meters/plant-7.csv","v":1}'
    )
    drafts = []
    for i in range(count):
        digest = hashlib.sha256(i.to_bytes(8, "big")).hexdigest()
        body = (template % (i, digest, 1000 + i % 500)).encode()
        drafts.append(EntryDraft(EntryKind.IMPORT_BATCH, body, None))
    parse_entry(drafts[0].body)  # the bodies really are canonical entries
    return drafts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--proofs", type=int, default=2_000)
    args = parser.parse_args()

    drafts = _entries(args.entries)
    mean_size = statistics.fmean(len(d.body) for d in drafts[:1000])

    start, start_cpu = time.perf_counter(), time.process_time()
    for draft in drafts:
        hashlib.sha256(b"\x00" + draft.body).digest()
    floor = args.entries / (time.perf_counter() - start)
    floor_cpu = args.entries / (time.process_time() - start_cpu)

    with tempfile.TemporaryDirectory() as folder:
        engine = create_store_engine(f"sqlite:///{Path(folder) / 'carbonlink.db'}")
        upgrade(engine)
        ledger = Ledger(engine)
        start, start_cpu = time.perf_counter(), time.process_time()
        for lo in range(0, args.entries, args.batch):
            ledger.append_many(drafts[lo : lo + args.batch])
        append_rate = args.entries / (time.perf_counter() - start)
        append_cpu = args.entries / (time.process_time() - start_cpu)
        size = ledger.size()
        assert size == args.entries

        start = time.perf_counter()
        root = ledger.root()
        root_ms = (time.perf_counter() - start) * 1000

        rng = random.Random(6962)
        indices = [rng.randrange(size) for _ in range(args.proofs)]
        ledger.inclusion_proof(indices[0], size)  # warm the statement cache
        timings = []
        proofs = []
        start_cpu = time.process_time()
        for index in indices:
            start = time.perf_counter()
            proofs.append(ledger.inclusion_proof(index, size))
            timings.append(time.perf_counter() - start)
        proof_cpu_ms = (time.process_time() - start_cpu) / len(indices) * 1000
        start = time.perf_counter()
        for index, proof in zip(indices, proofs, strict=True):
            merkle.verify_inclusion(merkle.leaf_hash(drafts[index].body), index, size, proof, root)
        verify_us = (time.perf_counter() - start) / len(indices) * 1e6

        start = time.perf_counter()
        for first in (1, 3, 1000, 65_537, size // 2, size - 1):
            merkle.verify_consistency(
                first, size, ledger.root(first), root, ledger.consistency_proof(first, size)
            )
        consistency_ms = (time.perf_counter() - start) / 6 * 1000
        engine.dispose()
        db_bytes = sum(p.stat().st_size for p in Path(folder).iterdir())

    timings.sort()
    mean_ms = statistics.fmean(timings) * 1000
    p99_ms = timings[int(len(timings) * 0.99)] * 1000
    print(f"ledger benchmark: {args.entries:,} entries of ~{mean_size:.0f} bytes, SQLite (WAL)")
    print("  wall clock, and per CPU-second of this process (other load on the machine shows")
    print("  as the gap between the two):")
    print(
        f"  floor  hashlib SHA-256 of the leaves     {floor:12,.0f} leaves/s"
        f"   ({floor_cpu:,.0f} per CPU-s)"
    )
    print(
        f"  append batched ({args.batch:,}/transaction)   {append_rate:12,.0f} appends/s"
        f"   ({append_cpu:,.0f} per CPU-s)   target ≥ 100,000/s"
    )
    print(
        f"  ratio append / floor                  {append_rate / floor:12.3f}"
        f"   ({append_cpu / floor_cpu:.3f} per CPU-s)"
    )
    print(f"  root at {size:,}                       {root_ms:8.3f} ms")
    print(
        f"  inclusion proof at {size:,}            {mean_ms:8.3f} ms mean, {p99_ms:.3f} ms p99,"
        f" {proof_cpu_ms:.3f} ms CPU ({len(proofs[0])} hashes; target < 1 ms)"
    )
    print(f"  inclusion proof verification          {verify_us:8.1f} µs")
    print(f"  consistency proof + 2 roots + verify  {consistency_ms:8.3f} ms")
    print(f"  database size                         {db_bytes / 2**20:8.1f} MiB")


if __name__ == "__main__":
    main()
