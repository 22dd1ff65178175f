"""The one place that decides device, precision and threads (tts.core.device)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from tts.core import device as policy


def test_requested_threads_win_then_the_environment_then_the_free_cores(monkeypatch):
    monkeypatch.setenv(policy.THREADS_ENV, "3")
    assert policy.choose_threads(2) == (2, "as requested")
    assert policy.choose_threads() == (3, f"from ${policy.THREADS_ENV}")
    monkeypatch.delenv(policy.THREADS_ENV)
    threads, why = policy.choose_threads()
    assert 1 <= threads <= len(os.sched_getaffinity(0)) and "free" in why


@pytest.mark.parametrize("load, expected", [(0.0, 2), (0.4, 2), (0.6, 1), (1.0, 1), (3.5, 1)])
def test_free_cores_subtract_the_load_and_keep_one(monkeypatch, load, expected):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert policy.free_cores() == expected


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_a_bad_thread_count_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv(policy.THREADS_ENV, value)
    with pytest.raises(ValueError, match=policy.THREADS_ENV):
        policy.choose_threads()
    with pytest.raises(ValueError, match="threads must be >= 1"):
        policy.choose_threads(0)


def test_devices_resolve_and_absent_ones_are_refused():
    assert policy.resolve_device("cpu") == torch.device("cpu")
    assert policy.resolve_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(policy.DeviceError, match="unknown device"):
        policy.resolve_device("toaster")
    if not torch.cuda.is_available():
        with pytest.raises(policy.DeviceError, match="CUDA is not available"):
            policy.resolve_device("cuda", check=True)


def _environment_after(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in (policy.ONEDNN_CACHE_ENV, "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    result = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                            timeout=120, check=True)
    return result.stdout.strip()


def test_the_cpu_gets_a_bounded_kernel_cache_unless_the_user_set_one():
    code = ("import os; from tts.core.device import resolve_device; resolve_device('cpu'); "
            f"print(os.environ.get('{policy.ONEDNN_CACHE_ENV}'))")
    assert _environment_after(code) == str(policy.ONEDNN_CACHE_CAPACITY)
    assert _environment_after(code, **{policy.ONEDNN_CACHE_ENV: "7"}) == "7"


def test_passive_waiting_is_a_default_the_user_can_override():
    code = "import os; from tts.core.device import prefer_passive_waiting as p; p(); print(os.environ['OMP_WAIT_POLICY'])"
    assert _environment_after(code) == "PASSIVE"
    assert _environment_after(code, OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"


def test_waiting_threads_spin_briefly_before_they_sleep():
    code = "import os; from tts.core.device import prefer_passive_waiting as p; p(); print(os.environ['GOMP_SPINCOUNT'])"
    assert _environment_after(code) == str(policy.spin_before_sleep())
    assert _environment_after(code, GOMP_SPINCOUNT="0") == "0"


def test_the_spin_count_follows_the_cpu_vendor():
    intel = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\n"
    amd = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9654\n"
    assert policy.spin_before_sleep(intel) == policy.SPIN_BEFORE_SLEEP_INTEL
    assert policy.spin_before_sleep(amd) == policy.SPIN_BEFORE_SLEEP
    assert policy.spin_before_sleep("") == policy.SPIN_BEFORE_SLEEP  # no /proc/cpuinfo (macOS, Windows)
    assert policy.spin_before_sleep("model name\t: GenuineIntel\n") == policy.SPIN_BEFORE_SLEEP  # vendor_id only
    assert policy.cpuinfo_value("model name", amd) == "AMD EPYC 9654"  # the benches' caption
    assert policy.cpuinfo_value("flags", amd) == ""


def test_weights_placement_reads_the_first_floating_weight():
    assert policy.weights_placement(torch.nn.Linear(2, 2).to(torch.bfloat16)) == (torch.device("cpu"), torch.bfloat16)
    assert policy.weights_placement(torch.nn.ReLU()) == (torch.device("cpu"), torch.float32)  # no parameters
    counts = torch.nn.Module()
    counts.n = torch.nn.Parameter(torch.zeros(3, dtype=torch.int64), requires_grad=False)
    assert policy.weights_placement(counts) == (torch.device("cpu"), torch.float32)  # no floating ones
