"""The include graph follows the layering the CMake rooms promise (README, "Where things
are"): each room of framework/ includes only the rooms it links against, and the pure part
of sweep/ (reading a spec, expanding it into runs, the [evolution] options) reaches,
through every header it includes, nothing that trains, stores or executes. Reads the
sources as text; needs no build."""
import os
import re
import sys

ROOT = os.environ.get("CELLZOO_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

# room -> the rooms it may include (framework/CMakeLists.txt links them).
ALLOWED_ROOMS = {
    "util": set(),
    "datasets": {"util"},
    "cells": {"util"},
    "plugins": {"cells", "util"},
    "lang": {"cells", "util"},
    "store": {"cells", "util"},
    "train": {"cells", "datasets", "util"},
    "analysis": {"store", "cells", "util"},
    "sweep": {"cells", "datasets", "lang", "plugins", "store", "train", "util"},
    "cli": {"analysis", "cells", "datasets", "lang", "plugins", "store", "sweep", "train",
            "util"},
}

# The pure part of sweep/ (spec.hpp: "spec -> list of runs", no threads, no files written).
PURE_SWEEP = ["framework/sweep/spec.hpp", "framework/sweep/spec.cpp",
              "framework/sweep/spec_text.hpp", "framework/sweep/expand.cpp",
              "framework/sweep/evolution_options.hpp", "framework/sweep/evolution_options.cpp"]
# What it may reach: the cells and their language, the tasks, the hyperparameter table,
# utilities, and itself.
PURE_MAY_REACH = re.compile(r"^(framework/(util|cells|lang)/|datasets/"
                            r"|framework/train/hyperparameters\.hpp$)")


def sources():
    for top in ("framework", "datasets"):
        for d, _, names in os.walk(os.path.join(ROOT, top)):
            for n in names:
                if n.endswith((".cpp", ".hpp")):
                    yield os.path.relpath(os.path.join(d, n), ROOT)


def includes(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return [i for i in INCLUDE.findall(f.read())
                if os.path.exists(os.path.join(ROOT, i))]  # generated headers are not here


def room(path):
    parts = path.split("/")
    return parts[1] if parts[0] == "framework" else parts[0]


def reach(path, seen=None):
    """Every project header `path` includes, directly or through other headers."""
    seen = set() if seen is None else seen
    for i in includes(path):
        if i not in seen:
            seen.add(i)
            reach(i, seen)
    return seen


def test_rooms_include_only_what_they_link():
    bad = []
    for path in sources():
        r = room(path)
        for i in includes(path):
            if room(i) != r and room(i) not in ALLOWED_ROOMS[r]:
                bad.append(f"{path} includes {i} ({r} does not link {room(i)})")
    assert not bad, "\n".join(bad)
    print(f"ok: the {len(ALLOWED_ROOMS)} rooms include only the rooms they link against")


def test_pure_sweep_reaches_nothing_that_trains():
    bad = []
    for path in PURE_SWEEP:
        assert os.path.exists(os.path.join(ROOT, path)), f"{path} is gone: update PURE_SWEEP"
        for i in sorted(reach(path)):
            if i not in PURE_SWEEP and not PURE_MAY_REACH.match(i):
                bad.append(f"{path} reaches {i}")
    assert not bad, ("the pure part of sweep/ depends on what trains, stores or executes:\n"
                     + "\n".join(bad))
    print(f"ok: {len(PURE_SWEEP)} pure sweep files reach no trainer, store or executor")


def test_the_check_can_fail():
    # evolution.hpp (the search) pulls in the executor and so the store and the trainer.
    reached = reach("framework/sweep/evolution.hpp")
    assert "framework/sweep/executor.hpp" in reached, sorted(reached)
    assert any(i.startswith("framework/store/") for i in reached), sorted(reached)
    assert not PURE_MAY_REACH.match("framework/sweep/executor.hpp")
    print("ok: evolution.hpp would be caught")


def main():
    test_rooms_include_only_what_they_link()
    test_pure_sweep_reaches_nothing_that_trains()
    test_the_check_can_fail()


if __name__ == "__main__":
    sys.exit(main())
