"""NIST's Statistical Reference Datasets for nonlinear regression
(tests/data/nist/): each file read into its data, its two starting points
and its certified values, and its model written in the language, reading
the data with `load` from a CSV file."""

from __future__ import annotations

import os
import re

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "nist")

# Each problem's model as its file's header gives it, written in the
# language: the residual is the response minus the model.
MODELS = {
    "Bennett5": "y - b1 * (b2 + x) ** (-1 / b3)",
    "BoxBOD": "y - b1 * (1 - exp(-b2 * x))",
    "Chwirut1": "y - exp(-b1 * x) / (b2 + b3 * x)",
    "Chwirut2": "y - exp(-b1 * x) / (b2 + b3 * x)",
    "DanWood": "y - b1 * x ** b2",
    "ENSO": "y - (b1 + b2 * cos(2 * pi * x / 12) + b3 * sin(2 * pi * x / 12)"
    " + b5 * cos(2 * pi * x / b4) + b6 * sin(2 * pi * x / b4)"
    " + b8 * cos(2 * pi * x / b7) + b9 * sin(2 * pi * x / b7))",
    "Eckerle4": "y - (b1 / b2) * exp(-0.5 * ((x - b3) / b2) ** 2)",
    "Gauss1": "y - (b1 * exp(-b2 * x) + b3 * exp(-(x - b4) ** 2 / b5 ** 2)"
    " + b6 * exp(-(x - b7) ** 2 / b8 ** 2))",
    "Hahn1": "y - (b1 + b2 * x + b3 * x ** 2 + b4 * x ** 3)"
    " / (1 + b5 * x + b6 * x ** 2 + b7 * x ** 3)",
    "Kirby2": "y - (b1 + b2 * x + b3 * x ** 2) / (1 + b4 * x + b5 * x ** 2)",
    "Lanczos1": "y - (b1 * exp(-b2 * x) + b3 * exp(-b4 * x) + b5 * exp(-b6 * x))",
    "MGH09": "y - b1 * (x ** 2 + x * b2) / (x ** 2 + x * b3 + b4)",
    "MGH10": "y - b1 * exp(b2 / (x + b3))",
    "MGH17": "y - (b1 + b2 * exp(-x * b4) + b3 * exp(-x * b5))",
    "Misra1a": "y - b1 * (1 - exp(-b2 * x))",
    "Misra1b": "y - b1 * (1 - (1 + b2 * x / 2) ** (-2))",
    "Misra1c": "y - b1 * (1 - (1 + 2 * b2 * x) ** (-0.5))",
    "Misra1d": "y - b1 * b2 * x * ((1 + b2 * x) ** (-1))",
    "Nelson": "log(y) - (b1 - b2 * x1 * exp(-b3 * x2))",
    "Rat42": "y - b1 / (1 + exp(b2 - b3 * x))",
    "Rat43": "y - b1 / ((1 + exp(b2 - b3 * x)) ** (1 / b4))",
    "Roszman1": "y - (b1 - b2 * x - atan(b3 / (x - b4)) / pi)",
}
MODELS["Gauss2"] = MODELS["Gauss3"] = MODELS["Gauss1"]
MODELS["Lanczos2"] = MODELS["Lanczos3"] = MODELS["Lanczos1"]
MODELS["Thurber"] = MODELS["Hahn1"]

NAMES = sorted(MODELS)

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


class Problem:
    """One NIST problem: `columns` (name -> the data's numbers, as written
    in the file), `starts` (two lists of starting values), `certified`
    and `stderr` (the certified values and standard deviations)."""

    def __init__(self, name):
        self.name = name
        with open(os.path.join(HERE, name + ".dat"), encoding="ascii") as f:
            lines = f.read().splitlines()
        params = []
        data_at = None
        for k, line in enumerate(lines):
            m = re.match(
                rf"\s*(b\d+)\s*=\s*({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})", line
            )
            if m:
                params.append(m.groups())
            if line.startswith("Data:") and "Response" not in line:
                data_at = k
        self.params = [p[0] for p in params]
        self.starts = [[p[1] for p in params], [p[2] for p in params]]
        self.certified = [float(p[3]) for p in params]
        self.stderr = [float(p[4]) for p in params]
        names = lines[data_at].split()[1:]
        rows = [line.split() for line in lines[data_at + 1 :] if line.strip()]
        self.columns = {n: [row[c] for row in rows] for c, n in enumerate(names)}

    def csv(self) -> str:
        """The data as a CSV file: a header row of the columns' names, then
        the numbers as the .dat file writes them (none rounded)."""
        rows = zip(*self.columns.values())
        return "\n".join([",".join(self.columns), *(",".join(row) for row in rows)]) + "\n"

    def program(self, start: int, data: str) -> str:
        """The problem as a file of the language, from start 1 or 2, its
        columns read with `load` from the CSV file `data` (as `csv` writes
        it, the name relative to the file), with the residuals `r`."""
        lines = [f'{n} = load("{data}", column="{n}")' for n in self.columns]
        lines += [f"param {p} = {v}" for p, v in zip(self.params, self.starts[start - 1])]
        lines.append(f"r = {MODELS[self.name]}")
        return "\n".join(lines) + "\n"
