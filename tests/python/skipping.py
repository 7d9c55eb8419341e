"""Honest skips for tests/python: a test whose precondition is missing (a module, a binary
that is not built) is reported as skipped, never as passed.

skip(reason) prints the reason and exits 77, CTest's skip code (SKIP_RETURN_CODE in
tests/CMakeLists.txt); under pytest, conftest.py turns that exit into pytest.skip.
run_tests() runs a file's tests as its main() does and exits 77 after the last one if any
skipped, so a missing precondition neither hides the tests after it nor passes silently."""
import functools
import sys


def skip(reason: str) -> None:
    print(f"SKIP: {reason}", file=sys.stderr)
    sys.exit(77)


def run_tests(*tests) -> None:
    """Calls each test (a callable without arguments; functools.partial binds them)."""
    skipped = []
    for test in tests:
        try:
            test()
        except SystemExit as e:
            if e.code != 77:
                raise
            fn = test.func if isinstance(test, functools.partial) else test
            skipped.append(fn.__name__)
    if skipped:
        print(f"SKIP: {', '.join(skipped)} skipped (the reasons are above)", file=sys.stderr)
        sys.exit(77)
