"""What the benchmark scripts share: pinning a command to cores and running it as a child whose
own wall time and peak memory are measured."""

import os
import selectors
import shutil
import sys
import subprocess
import time


def pinned(command, cores):
    """The command restricted to the first `cores` CPUs, when taskset is there to do it."""
    if shutil.which("taskset"):
        return ["taskset", "-c", f"0-{cores - 1}"] + command
    return command


def run_child(command, env=None, cwd=None, keep_stdout=True):
    """Runs command and returns (seconds, peak RSS of that child in bytes, stdout text); exit
    codes 0 and 1 (findings) are success. Without keep_stdout the output is read and dropped."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    # Read both pipes before waiting, then reap with wait4 to get this child's own rusage.
    out_chunks, err_chunks = [], []
    selector = selectors.DefaultSelector()
    selector.register(child.stdout, selectors.EVENT_READ, out_chunks)
    selector.register(child.stderr, selectors.EVENT_READ, err_chunks)
    while selector.get_map():
        for key, _ in selector.select():
            data = key.fileobj.read1(1 << 16)
            if data:
                if keep_stdout or key.data is err_chunks:
                    key.data.append(data)
            else:
                selector.unregister(key.fileobj)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    stdout, stderr = b"".join(out_chunks), b"".join(err_chunks)
    if code not in (0, 1):
        sys.exit(f"{command[0]} failed ({code}): {stderr.decode(errors='replace')[-2000:]}")
    return elapsed, usage.ru_maxrss * 1024, stdout.decode(errors="replace")
