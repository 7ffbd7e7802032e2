"""Runs one side of a benchmark in its own process: each side then pays
its own imports and compilation and reports its own peak memory."""

import json
import subprocess


def last_json(command, **kwargs):
    """The JSON object a child process prints last on stdout; its stderr
    passes through, and a failed child ends the benchmark naming it."""
    run = subprocess.run(command, check=False, text=True,
                         stdout=subprocess.PIPE, **kwargs)
    if run.returncode:
        raise SystemExit(f"{command[:2]} failed ({run.returncode})")
    return json.loads(run.stdout.strip().splitlines()[-1])
