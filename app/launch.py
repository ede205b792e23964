"""The `monograph` command as installed (and `python -m app`): started with the cyclic garbage
collector off.

Starting to serve imports some 650 modules and builds the catalog, making a great many container
objects: for every 700 more the collector ran, 254 times for the imports alone, twice over all
that was made so far, while almost none of it was garbage (the imports leave under a thousand
unreachable objects). Off, the imports took about a fifth less CPU, and they are a cold start's
critical path, in the serving process and in the child that seeds (app.startup).

One worker serving turns it back on once it is ready (app.main's lifespan, after freezing what
start-up built); every other command (several workers included) as soon as it is parsed (app.cli).
"""

from __future__ import annotations

import gc


def main() -> int:
    gc.disable()
    from app.cli import main as run_command  # imported with the collector off: see above

    return run_command()
