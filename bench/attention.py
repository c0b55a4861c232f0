"""e2t attention against torch's: multi-head attention and scaled dot-product attention, forward + backward.

Time: median of repeated runs with torch.utils.benchmark. Peak memory: each configuration runs in a fresh
subprocess that reports the growth of its peak resident set size (ru_maxrss) during forward + backward.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import e2t
import torch
import torch.nn.functional as F
from e2t.attention import scaled_dot_product_attention
from e2t.transformer import MultiHeadAttention
from torch.utils import benchmark

GOAL_RATIO = 1.2


def _mha_pair(D: int, H: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    ours = MultiHeadAttention(d_model=D, num_heads=H)
    theirs = torch.nn.MultiheadAttention(D, H, batch_first=True)
    with torch.no_grad():  # same weights, so both do the same arithmetic
        theirs.in_proj_weight.copy_(torch.cat([ours.W_q.weight, ours.W_k.weight, ours.W_v.weight]))
        theirs.in_proj_bias.copy_(torch.cat([ours.W_q.bias, ours.W_k.bias, ours.W_v.bias]))
        theirs.out_proj.weight.copy_(ours.W_o.weight)
        theirs.out_proj.bias.copy_(ours.W_o.bias)
    return ours, theirs


def _step_fn(kind: str, impl: str, B: int, L: int, D: int, H: int):
    """A closure running forward + backward once for one implementation."""
    x = torch.randn(B, L, D, requires_grad=True)
    if kind == "mha":
        ours, theirs = _mha_pair(D, H)
        if impl == "e2t":
            return lambda: ours(x, x, x)[0].sum().backward()
        return lambda: theirs(x, x, x, need_weights=True, average_attn_weights=False)[0].sum().backward()
    Dh = D // H
    q = torch.randn(B, H, L, Dh, requires_grad=True)
    k = torch.randn(B, H, L, Dh, requires_grad=True)
    v = torch.randn(B, H, L, Dh, requires_grad=True)
    if impl == "e2t":
        return lambda: scaled_dot_product_attention(q, k, v)[0].sum().backward()
    return lambda: F.scaled_dot_product_attention(q, k, v).sum().backward()


def time_pair(kind: str, *, B: int, L: int, D: int, H: int, min_run_time: float = 0.5) -> dict:
    """Median seconds of forward + backward for e2t and torch, and their ratio."""
    out = {"kind": kind, "B": B, "L": L, "D": D, "H": H}
    for impl in ("e2t", "torch"):
        e2t.set_seed(0)
        fn = _step_fn(kind, impl, B, L, D, H)
        fn()  # warm-up
        measurement = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=torch.get_num_threads()
                                      ).blocked_autorange(min_run_time=min_run_time)
        out[f"{impl}_ms"] = measurement.median * 1e3
    out["ratio"] = out["e2t_ms"] / out["torch_ms"]
    return out


def _status_kib(field: str) -> int:
    for line in open("/proc/self/status", encoding="ascii"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _peak_memory_child(kind: str, impl: str, B: int, L: int, D: int, H: int) -> None:
    e2t.set_seed(0)
    fn = _step_fn(kind, impl, B, L, D, H)
    fn()  # warm-up: allocator pools and lazy initialisation are not counted
    try:  # reset the peak resident set size (Linux), so the peak of this one call is measured
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        before = _status_kib("VmRSS")
        fn()
        peak = _status_kib("VmHWM") - before
    except OSError:  # no /proc: fall back to the growth of the process's lifetime peak
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        fn()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(json.dumps({"peak_kib": peak}))


def peak_memory(kind: str, *, B: int, L: int, D: int, H: int) -> dict:
    """Peak resident memory above the starting point (MiB) of one forward + backward (after a warm-up call),
    each implementation in a fresh process, read from Linux's VmHWM after resetting it."""
    out = {}
    for impl in ("e2t", "torch"):
        code = (f"from bench.attention import _peak_memory_child; "
                f"_peak_memory_child({kind!r}, {impl!r}, {B}, {L}, {D}, {H})")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        out[f"{impl}_peak_mib"] = json.loads(result.stdout.strip().splitlines()[-1])["peak_kib"] / 1024
    return out


def run(*, lengths=(16, 32, 64, 128, 256, 512), B: int = 32, D: int = 256, H: int = 8,
        min_run_time: float = 0.5, memory: bool = True) -> list[dict]:
    rows = []
    for kind in ("mha", "sdpa"):
        for L in lengths:
            row = time_pair(kind, B=B, L=L, D=D, H=H, min_run_time=min_run_time)
            if memory:
                row.update(peak_memory(kind, B=B, L=L, D=D, H=H))
            rows.append(row)
    return rows
