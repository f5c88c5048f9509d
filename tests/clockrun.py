"""`python -m tests.clockrun MODULE ARGS...` runs `python -m MODULE ARGS...` at the shifted clock of
the test run that started it (PAPERBOY_TEST_CLOCK_SHIFT), e.g. a Celery worker or beat. Prefork
pool children are forked from it and keep the shift."""

import runpy
import sys

from tests.clock import follow_parent_shift

if __name__ == "__main__":
    follow_parent_shift()
    sys.argv = sys.argv[1:]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
