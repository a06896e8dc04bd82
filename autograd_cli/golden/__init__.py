"""`autograd-cli test`: every .expr file against its golden file.

A golden file, ``NAME.golden.json`` beside ``NAME.expr``, is what
``autograd-cli eval NAME.expr --format json`` printed, whole or in part:
only what it lists is compared.  A golden file whose .expr is gone fails
too.  The modules, each leaning only on those before it:

- `files`: finding the .expr files, and reading a checkout's files safely
  (links only within the tested tree, regular files only);
- `format`: the golden file, read and checked, and the one `--update` writes;
- `compare`: tolerances, rounding noise and the mismatches;
- `report`: what became of each file, as text, JSON or JUnit XML;
- `write`: golden files written atomically, and the report;
- `run`: `check_file` for one file, `run_tests` for the command.
"""

from .run import run_tests

__all__ = ["run_tests"]
