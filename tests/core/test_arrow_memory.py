"""``import headwater`` sets mimalloc's purge delay before pyarrow loads (arrow_memory.py, ADR 0009).

Checked in a fresh interpreter with ``MIMALLOC_VERBOSE=1``: mimalloc itself prints the options it
read when pyarrow's library loaded, so these tests see the allocator's own view, not our variable.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


def _purge_delay(code: str, **env: str) -> int:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("MIMALLOC_PURGE_DELAY", "HEADWATER_ARROW_DECAY_MS", "ARROW_DEFAULT_MEMORY_POOL")}
    done = subprocess.run([sys.executable, "-c", code], env={**clean, "MIMALLOC_VERBOSE": "1", **env},
                          capture_output=True, text=True, check=True, timeout=120)
    found = re.search(r"option 'purge_delay': (-?\d+)", done.stderr)
    if found is None:
        pytest.skip("this pyarrow's default pool is not mimalloc")
    return int(found.group(1))


USE = "import pyarrow as pa; pa.array(list(range(1000)))"


def test_importing_headwater_first_keeps_freed_pages_for_30_seconds():
    assert _purge_delay(f"import headwater; {USE}") == 30_000
    assert _purge_delay(USE) < 30_000  # what pyarrow does on its own (pyarrow 26's mimalloc: 1000 ms)


def test_the_delay_follows_headwater_arrow_decay_ms_and_an_explicit_mimalloc_setting_wins():
    assert _purge_delay(f"import headwater; {USE}", HEADWATER_ARROW_DECAY_MS="2500") == 2500
    assert _purge_delay(f"import headwater; {USE}", HEADWATER_ARROW_DECAY_MS="soon") == 30_000
    assert _purge_delay(f"import headwater; {USE}", MIMALLOC_PURGE_DELAY="50",
                        HEADWATER_ARROW_DECAY_MS="2500") == 50


def test_the_cli_entry_point_gets_it_too():
    assert _purge_delay(f"from headwater.cli import app; {USE}") == 30_000


HEAP = """
import ctypes, resource
from headwater.engines.duckdb import DuckDBSession
DuckDBSession().close()  # the first session sets glibc's heap up
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def batch():  # what a batch of e-mails read from DuckDB looks like to malloc: a few MB blocks, freed together
    blocks = [libc.malloc(8 << 20) for _ in range(8)]
    for b in blocks:
        ctypes.memset(b, 1, 8 << 20)
    for b in blocks:
        libc.free(b)
batch(); batch()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
batch()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults_of_a_repeated_batch(**env: str) -> int:
    if not (hasattr(os, "confstr") and os.confstr("CS_GNU_LIBC_VERSION")):
        pytest.skip("glibc's malloc only")
    clean = {k: v for k, v in os.environ.items() if k != "HEADWATER_HEAP_KEEP_MB"}
    done = subprocess.run([sys.executable, "-c", HEAP], env={**clean, **env},
                          capture_output=True, text=True, check=True, timeout=120)
    return int(done.stdout.split()[-1])


def test_a_duckdb_session_lets_glibc_reuse_a_freed_batch_without_faulting_it_in_again():
    # 64 MB freed and allocated again: kept, it costs no page fault; handed back, ~16k (4 KiB each)
    assert _faults_of_a_repeated_batch() < 200
    assert _faults_of_a_repeated_batch(HEADWATER_HEAP_KEEP_MB="0") > 8000


BENCHMARKS = sorted(p for p in (Path(__file__).resolve().parents[2] / "benchmarks").glob("*/*.py")
                    if "__main__" in p.read_text())


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_benchmark_script_loads_headwater_before_pyarrow(script):
    """A benchmark that loads pyarrow first measures headwater without its memory pool settings
    (the contracts benchmark did, until 2026-11-24: the gate's split faulted its pages in again)."""
    probe = f"import runpy, sys; sys.argv = ['probe']; runpy.run_path({str(script)!r}, run_name='probe'); {USE}"
    assert _purge_delay(probe) == 30_000
