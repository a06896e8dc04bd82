"""Finding what `autograd-cli test` tests, and reading it safely.

The .expr files under the paths given, each paired with the golden file
beside it (`golden_path`), and golden files whose .expr is gone.  The files
are the checkout's, which CI may not trust: a link is followed only to a
file inside the tested tree (`resolve`) and only regular files are read
(`read_found`).
"""

from __future__ import annotations

import errno
import os
import stat

from ..errors import ExprError, display_path
from ..sources import file_kind

GOLDEN_SUFFIX = ".golden.json"


def find_expr_files(paths):
    """The .expr files under `paths`, sorted within each directory, each once,
    with the golden files whose .expr is gone in their place among them, as
    ``(path, tree)`` pairs; and ``(path, message)`` for each path that is
    not usable.

    `tree` is the real path of the tested tree the file was found in: the
    PATH directory, or the directory of a file named as PATH (see
    `resolve`).  Directories are walked without recursion, and links to
    directories are not followed (their files are found under their real
    place, or not at all); hidden ones (``.git``, ``.venv``) are skipped,
    unless named.  Every other entry named NAME.expr is listed, whatever it
    is (a link, a FIFO): `check_file` says why it cannot be tested, rather
    than leave it out without a word."""
    found, problems, seen = [], [], set()
    real_dirs = {}

    def add(p, tree):
        p = os.path.normpath(p)
        # The same file named twice (`test . seed.expr`) is tested once; a
        # link to a file found already is a file of its own, tested against
        # its own golden file.
        d = os.path.dirname(p) or "."
        if d not in real_dirs:
            real_dirs[d] = os.path.realpath(d)
        key = (real_dirs[d], os.path.basename(p))
        if key not in seen:
            seen.add(key)
            found.append((p, tree))

    for path in paths:
        if os.path.isdir(path):
            tree = os.path.realpath(path)
            stack = [path]
            while stack:
                d = stack.pop()
                try:
                    with os.scandir(d) as it:
                        entries = sorted(it, key=lambda e: e.name)
                except OSError as e:
                    problems.append((d, f"cannot read the directory: {e.strerror or e}"))
                    continue
                subdirs = []
                for e in entries:
                    try:
                        is_dir = e.is_dir(follow_symlinks=False)
                    except OSError:
                        is_dir = False
                    if is_dir:
                        if not e.name.startswith("."):
                            subdirs.append(os.path.join(d, e.name))
                    elif e.name.endswith(".expr"):
                        add(os.path.join(d, e.name), tree)
                    elif e.name.endswith(GOLDEN_SUFFIX):
                        gpath = os.path.join(d, e.name)
                        if not _has_expr(gpath):
                            add(gpath, tree)
                stack.extend(reversed(subdirs))
        elif path.endswith(".expr") and os.path.lexists(path):
            add(path, tree_of(path))
        elif path.endswith(GOLDEN_SUFFIX) and os.path.lexists(path):
            add(expr_path(path) if _has_expr(path) else path, tree_of(path))
        elif not os.path.lexists(path):
            problems.append((path, "no such file or directory"))
        else:
            problems.append((path, "not a .expr file or a directory"))
    return found, problems


def tree_of(path: str) -> str:
    """The tested tree of a file named as a PATH: its directory."""
    return os.path.realpath(os.path.dirname(path) or ".")


def _has_expr(gpath: str) -> bool:
    """Whether the golden file `gpath` has its NAME.expr beside it: anything
    of that name but a directory (a link or a FIFO is tested, and fails)."""
    e = expr_path(gpath)
    try:
        return not stat.S_ISDIR(os.lstat(e).st_mode)
    except OSError:
        return False


def _inside(real: str, tree: str) -> bool:
    return real == tree or real.startswith(tree.rstrip(os.sep) + os.sep)


def resolve(path: str, tree: str) -> str:
    """What to open for `path`, a file `test` found or paired in the tested
    tree `tree` (a real path): `path` itself, or for a link the real path of
    the file it leads to, when that is inside `tree`.  A link that leads out
    of the tree (a checkout's ``x.expr -> /home/ci/.env``), nowhere, or
    round in a loop is an `ExprError` naming it and where it points; what it
    points to is never opened."""
    if not os.path.islink(path):
        return path
    to = link_text(path)
    real = os.path.realpath(path)
    if not _inside(real, tree):
        raise ExprError(
            f"a link to {to}, outside the tested tree {display_path(tree)}: "
            "not followed (links are followed only within the tree)"
        )
    try:
        os.stat(path)
    except OSError as e:
        if e.errno == errno.ENOENT:
            raise ExprError(f"a link to {to}, which does not exist") from None
        if e.errno == errno.ELOOP:
            raise ExprError(f"a link to {to}, which leads round in a loop of links") from None
        raise ExprError(f"a link to {to}: {e.strerror or e}") from None
    return real


def link_text(path: str) -> str:
    """Where the link `path` points, as people see it."""
    try:
        return display_path(os.readlink(path))
    except OSError as e:
        return f"? ({e.strerror or e})"


_OPEN_FLAGS = (
    os.O_RDONLY
    | os.O_NONBLOCK
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOFOLLOW", 0)
)


def read_found(path: str, real: str | None = None):
    """The text of a file `test` found or paired (a .expr, a golden file) as
    a `Source` shown under `path`, read from `real` (see `resolve`).

    Regular files only, up to `sources.READ_LIMIT` bytes: a checkout may
    hold a FIFO (which never ends, or never opens) or a link to /dev/zero
    where a file is expected.  The file is checked before it is opened (a
    device is never opened: opening some has effects) and again on the open
    descriptor, opened without blocking so that a FIFO swapped in between
    cannot hang the open."""
    from ..sources import read_capped as _read_capped
    from ..sources import source_of

    real = path if real is None else real
    try:
        mode = os.stat(real).st_mode
        if not stat.S_ISREG(mode):
            raise ExprError(f"cannot read the file: it is {file_kind(mode)}, not a regular file")
        fd = os.open(real, _OPEN_FLAGS)
        try:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                raise ExprError(
                    f"cannot read the file: it is {file_kind(mode)}, not a regular file"
                )
            data = _read_capped(fd, "the file")
        finally:
            os.close(fd)
    except OSError as e:
        raise ExprError(f"cannot read the file: {e.strerror or e}") from None
    return source_of(data, display_path(path))


def golden_path(path: str) -> str:
    """NAME.golden.json of NAME.expr."""
    base = path[: -len(".expr")] if path.endswith(".expr") else path
    return base + GOLDEN_SUFFIX


def expr_path(golden: str) -> str:
    """NAME.expr of NAME.golden.json."""
    return golden[: -len(GOLDEN_SUFFIX)] + ".expr"
