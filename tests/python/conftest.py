"""pytest for tests/python (Debian's python3-pytest): `pytest tests/python` after a build.

Every file here is also a plain script, and CTest runs it as one (python:<file>). Under
pytest the same environment is set up as CTest's (scripts on sys.path, the cellzoo binary
and build directory, a headless matplotlib, one BLAS thread), and:
- test_* functions are collected as usual; an argument `d` is a fresh temporary directory;
- a file without test_* functions is one test: its main();
- exit status 77, CTest's "skipped" (a missing module, no SLURM...), becomes a pytest skip,
  also when a file exits at import.
CELLZOO_BUILD_DIR (default: build/) chooses the build whose binaries the tests run.
"""
import inspect
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("CELLZOO_BUILD_DIR", os.path.join(ROOT, "build"))

for path in (os.path.join(ROOT, "scripts"), HERE):
    if path not in sys.path:
        sys.path.insert(0, path)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [os.path.join(ROOT, "scripts")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                                       if p])
for name, value in {"CELLZOO_BUILD_DIR": BUILD,
                    "CELLZOO_EXE": os.path.join(BUILD, "framework", "cellzoo"),
                    "CELLZOO_SOURCE_DIR": ROOT, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
                    "OPENBLAS_NUM_THREADS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}.items():
    os.environ.setdefault(name, value)


@pytest.fixture
def d(tmp_path):
    """The directory argument of the test functions (a str, as main() passes them)."""
    return str(tmp_path)


def _skip_on_77(call):
    try:
        return call()
    except SystemExit as e:
        if e.code == 77:
            pytest.skip("the test skipped itself (exit 77); see its stderr")
        raise


class ScriptModule(pytest.Module):
    """A test file whose import may exit 77 (a module it needs is missing)."""

    def _getobj(self):
        return _skip_on_77(super()._getobj)


def pytest_pycollect_makemodule(module_path, parent):
    if module_path.name.startswith("test_"):
        return ScriptModule.from_parent(parent, path=module_path)
    return None


def pytest_pycollect_makeitem(collector, name, obj):
    """main() is the test of a file that has no test_* functions."""
    if name != "main" or not inspect.isfunction(obj):
        return None
    module = collector.obj
    if any(n.startswith("test_") and inspect.isfunction(getattr(module, n))
           for n in dir(module)):
        return None

    def run_main():  # main() may return an exit status; pytest wants None
        obj()

    return pytest.Function.from_parent(collector, name=name, callobj=run_main)


@pytest.hookimpl(hookwrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    outcome = yield
    error = outcome.excinfo
    if error is not None and error[0] is SystemExit and error[1].code == 77:
        pytest.skip("the test skipped itself (exit 77); see its stderr")
