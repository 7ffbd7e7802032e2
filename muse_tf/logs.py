"""Quiet start-up: TensorFlow's C++ log stays out of what `muse-tf` and
the training scripts print, unless `--verbose`. TensorFlow-free, since it
must run before TensorFlow is first imported.

TensorFlow logs from C++ straight to stderr, not through Python's
`logging`: while `import tensorflow` runs (absl's "All log messages
before absl::InitializeLog() is called ..." line and oneDNN and CUDA
notices, twice: two of its libraries bundle absl) and later (CUDA's
"failed call to cuInit" error, XLA's start-up). TF_CPP_MIN_LOG_LEVEL
filters the later lines, but the import-time ones are out before TensorFlow
applies it, so `quiet_tensorflow` also runs the first `import tensorflow`
with stderr captured and passes on all but the C++ log lines below that
level. Python warnings and anything else written meanwhile pass through;
if the import fails, everything it wrote does.

A TF_CPP_MIN_LOG_LEVEL set in the environment wins over both the quiet
default and `--verbose`.
"""

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
VERBOSE_FLAG = "--verbose"
VERBOSE_HELP = ("show TensorFlow's C++ log (start-up notices, CUDA and XLA "
                "messages), hidden by default; a TF_CPP_MIN_LOG_LEVEL set "
                "in the environment wins")
# Hides INFO, WARNING and ERROR lines; FATAL ones still show. TensorFlow's
# C++ errors on start-up (no CUDA driver, oneDNN falling back to Eigen) are
# not failures: a failing op raises a Python exception with its message.
QUIET_LEVEL = 3

# absl's line format: "I0000 00:00:1796588137.696623   14935 port.cc:153] ".
_LOG_LINE = re.compile(rb"^([IWEF])\d{4} [\d:.]+ +\d+ [^\s\]]+:\d+\] ")
_SEVERITY = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}
_ABSL_PREAMBLE = (b"WARNING: All log messages before absl::InitializeLog() "
                  b"is called are written to STDERR")


def quiet_tensorflow(verbose=False):
    """Keeps TensorFlow's C++ log (below TF_CPP_MIN_LOG_LEVEL, by default
    QUIET_LEVEL; nothing with `verbose`) out of stderr. Call it before
    TensorFlow's first import; afterwards it does nothing (the level is
    read once), and in particular leaves the environment alone."""
    if "tensorflow" in sys.modules:
        return
    level = os.environ.get(LEVEL_VARIABLE)
    if level is None:
        if verbose:
            return
        level = str(QUIET_LEVEL)
        os.environ[LEVEL_VARIABLE] = level
    try:
        level = int(level)
    except ValueError:
        return  # TensorFlow treats it as 0: everything shows.
    if level > 0 and not any(isinstance(finder, _QuietImport)
                             for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietImport(level))


def filter_start_up_log(data, level):
    """The bytes written to stderr, without the C++ log lines below
    `level` (and absl's line that announces them, at any level > 0)."""
    lines = data.splitlines(keepends=True)
    return b"".join(line for line in lines if not _hidden(line, level))


def _hidden(line, level):
    if level > 0 and line.rstrip(b"\r\n") == _ABSL_PREAMBLE:
        return True
    match = _LOG_LINE.match(line)
    return bool(match) and _SEVERITY[match.group(1)] < level


class _QuietImport(importlib.abc.MetaPathFinder):
    """Runs the first `import tensorflow` under `_filtered_stderr`; it
    takes itself out of `sys.meta_path` on that import."""

    def __init__(self, level):
        self.level = level

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _FilteredLoader(spec.loader, self.level)
        return spec


class _FilteredLoader(importlib.abc.Loader):
    """A loader whose module runs under `_filtered_stderr`; the module
    keeps the original loader."""

    def __init__(self, loader, level):
        self.loader = loader
        self.level = level

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader
        with _filtered_stderr(self.level):
            self.loader.exec_module(module)


@contextlib.contextmanager
def _filtered_stderr(level):
    """Captures file descriptor 2 (C++ and Python writes alike) and writes
    it back on exit, filtered unless the block raised."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        saved = os.dup(2)
    except OSError:  # No stderr to capture.
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            data = captured.read()
            if not failed:
                data = filter_start_up_log(data, level)
            while data:
                data = data[os.write(2, data):]
