"""How long does ``viz.explore_depth`` take to make its page? ``python bench/depth.py``

At the defaults (depths 1 … 30, width 8, 16 moons points) the page holds 12 settings
× 30 depths = 360 fresh MLPs, each after one backward pass: 5,580 layers in all.
Timed as a user calls it (Python's cycle collector on: a library leaves it alone),
and with the collector switched off around the call, as a script may choose to: a
graph of Values has no cycles, so the collector only walks live nodes again and
again while the nets are built.
"""

from __future__ import annotations

import gc
import os
import platform

from harness import seconds  # puts the repository on sys.path before this folder

from viz import explore_depth


def main() -> None:
    made = seconds(explore_depth)
    gc.disable()
    try:
        uncollected = seconds(explore_depth)
    finally:
        gc.enable()
    print("explore_depth() at its defaults: 360 MLPs of depth 1 … 30, width 8, "
          "16 moons points\n")
    print("| | time |\n|---|---|")
    print(f"| as called (cycle collector on) | {made:.1f} s |")
    print(f"| the caller's gc.disable() around the call | {uncollected:.1f} s |")
    print(f"\n{platform.python_implementation()} {platform.python_version()} on "
          f"{platform.machine()}, {os.cpu_count()} CPUs; load average "
          f"{os.getloadavg()[0]:.1f} (other work on the machine slows both rows)")


if __name__ == "__main__":
    main()
