"""What the commands do, apart from how their arguments are parsed.

- `runner`: what every command shares: a `Command` (its computation on one
  file and its renderer), and `run`, which reads the files, runs it,
  reports, and turns errors into diagnostics and exit codes;
- `reports`: `eval`, `graph`, `explain` and `functions`;
- `check`: `check`;
- `blocks`: `hessian` and `jacobian`;
- `fit`: `fit`.
"""
