"""How long does ``viz.explore_depth`` take to make its page? ``python bench/depth.py``

At the defaults (depths 1 … 30, width 8, 16 moons points) the page holds 12 settings
× 30 depths = 360 fresh MLPs, each after one backward pass: 5,580 layers in all.
Timed as made (Python's cycle collector off during the sweep, as ``explore_depth``
does), and with the collector left on, to show what switching it off saves.
"""

from __future__ import annotations

import os
import platform
from unittest import mock

from harness import seconds  # puts the repository on sys.path before this folder

import viz.depth
from viz import explore_depth


def main() -> None:
    made = seconds(explore_depth)
    with mock.patch.object(viz.depth.gc, "disable", lambda: None):
        collected = seconds(explore_depth)
    print("explore_depth() at its defaults: 360 MLPs of depth 1 … 30, width 8, "
          "16 moons points\n")
    print("| | time |\n|---|---|")
    print(f"| as made (cycle collector off during the sweep) | {made:.1f} s |")
    print(f"| with the cycle collector left on | {collected:.1f} s |")
    print(f"\n{platform.python_implementation()} {platform.python_version()} on "
          f"{platform.machine()}, {os.cpu_count()} CPUs; load average "
          f"{os.getloadavg()[0]:.1f} (other work on the machine slows both rows)")


if __name__ == "__main__":
    main()
