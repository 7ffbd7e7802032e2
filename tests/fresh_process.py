"""Runs one function of a test module in a fresh Python process.

The released-size checks (`full_size` tests) hold GBs of parameters, as
numpy arrays and as variables, plus XLA's compilation; in their own
process that memory goes back when it ends instead of staying with the
test worker for the rest of the run."""

import os
import subprocess
import sys


def run_in_fresh_process(test_file, call, env=None):
    """Imports the module of `test_file` in a new interpreter (started in
    its folder) and evaluates `call` on it, e.g. "is_exact('256')";
    asserts that it ended cleanly, with its stderr as the message, and
    returns its stdout."""
    folder, name = os.path.split(os.path.abspath(test_file))
    module = name.removesuffix(".py")
    # The test module imports its siblings (its folder, the working
    # directory) and this module's (tests/, on the path).
    path = os.pathsep.join(filter(None, [
        os.path.dirname(os.path.abspath(__file__)),
        os.environ.get("PYTHONPATH")]))
    run = subprocess.run(
        [sys.executable, "-c", f"import {module}; {module}.{call}"],
        cwd=folder, capture_output=True, text=True, timeout=900,
        check=False, env={**os.environ, "PYTHONPATH": path, **(env or {})})
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout
