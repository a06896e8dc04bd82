"""A table-driven LALR parser: the runtime the .expr language runs on.

Lark analyses a grammar; `tables_of` reads its LALR tables off the analysis,
with how Lark's callbacks pick each rule's children, as plain literals
(`canonical` numbers the states so that one grammar always gives the same
tables, whatever the hash seed), and `tables_module` writes them as a Python
module, which Python then caches compiled.  `Parser` runs such tables with a
lean loop, calling a builder's methods as rules reduce, so Lark is not
imported at run time.  On a syntax error it raises `Rejected`, and
`Parser.expected` says which terminals would have done: putting that in
words is the language's business.
"""

from __future__ import annotations

import operator
import re

from .errors import Span

Match = type(re.match("", ""))


def text_of(tok) -> str:
    """A token's text: Lark's tokens, ours and the parser's matches."""
    return tok[tok.lastgroup] if type(tok) is Match else tok.value


def start_of(tok) -> int:
    """Where a token starts (blanks before it excluded)."""
    kind = type(tok)
    if kind is Match:
        return tok.start(tok.lastgroup)
    return tok.start if kind is Token else tok.start_pos


def end_of(tok) -> int:
    """Where a token ends."""
    kind = type(tok)
    if kind is Match:
        return tok.end()
    return tok.end if kind is Token else tok.end_pos


def kind_of(x):
    """A token's terminal, or None for anything else."""
    return x.lastgroup if type(x) is Match else getattr(x, "type", None)


# Lark's general-purpose runtime is slow per line (docs/performance.md,
# Parsing).  `Parser` runs the same LALR tables, made by Lark from the
# grammar, with a lean loop: one regular expression for the whole lexer,
# light tokens, and no callback for the chain reductions of inlined
# ``?rule``s (expr -> sum -> product -> ...), which pass their only child
# through.  On a rejection it keeps where it stopped (the token and the
# state stack), and `Parser.expected` reads what would have done from the
# tables as Lark's exception would: one grammar and one way of reporting
# errors.


class Rejected(Exception):
    """The text has a syntax error: at `token` (of terminal `kind`), with
    the automaton's state stack `states` then; or, `token` None, at a
    character no terminal matches, at offset `pos`."""

    def __init__(self, token=None, kind=None, states=(), pos=0):
        super().__init__(kind)
        self.token = token
        self.kind = kind
        self.states = states
        self.pos = pos


class Token(Span):
    """A token that is its own `Span` (Lark's tokens are converted)."""

    __slots__ = ("type", "value")

    def __init__(self, type, value, source, start, end):
        self.type = type
        self.value = value
        self.source = source
        self.start = start
        self.end = end


def read(path: str) -> str:
    """The text of the file at `path` (UTF-8)."""
    with open(path, encoding="utf-8") as f:
        return f.read()


SPLICE = "*splice*"  # an inlined _rule: its children go into its parent's


def canonical(tables: dict) -> dict:
    """`tables` with their states renumbered breadth-first from the start
    state, following each state's shifts and gotos in the order of their
    symbols' names (each state's actions and the keywords sorted too).

    Lark numbers its states in an order that depends on Python's hash seed;
    this numbering depends only on the automaton, so the same grammar always
    gives the same tables, and two analyses of it compare equal."""
    actions = {int(state): row for state, row in tables["actions"].items()}
    number = {tables["start"]: 0}
    order = [tables["start"]]
    for state in order:  # `order` grows as states are found
        row = actions[state]
        for kind in sorted(row):
            target = row[kind]
            if type(target) is int and target not in number:
                number[target] = len(order)
                order.append(target)
    # Lark's LR(0) states are all made by following symbols from the start.
    assert len(order) == len(actions), "states unreachable from the start state"
    return {
        "actions": {
            str(number[state]): {
                kind: (act if type(act) is not int else number[act])
                for kind, act in sorted(actions[state].items())
            }
            for state in order
        },
        "blanks": tables["blanks"],
        "end": number[tables["end"]],
        "ignore": sorted(tables["ignore"]),
        "keywords": dict(sorted(tables["keywords"].items())),
        "regex": tables["regex"],
        "rules": tables["rules"],
        "start": 0,
    }


def tables_of(lark, builder, common=()) -> dict:
    """The tables for `Parser`, read off `lark`, a fresh Lark analysis (LALR,
    basic lexer) whose callbacks are `builder`'s methods: the LALR actions
    (states numbered by `canonical`), and for each rule how Lark's callbacks
    pick the children passed to the builder (JSON-ready).  The terminals
    named in `common` are tried first by the lexer, where that cannot change
    what it matches (see `try_first`)."""
    import functools

    from lark.lexer import PatternRE, PatternStr
    from lark.parsers.lalr_analysis import Shift

    lalr = lark.parser.parser.parser
    table = lalr.parse_table
    rules, index = [], {}
    for rule, callback in lalr.callbacks.items():
        if isinstance(rule, str):
            continue
        # Lark's names may be its Tokens (a str subclass): plain strs, so
        # that the generated module is plain literals.
        size, name = len(rule.expansion), str(rule.origin.name)
        if rule.options.expand1 and rule.alias is None and size == 1:
            rules.append([size, name, None, None, 0])  # passes its only child through
        else:
            f, include, append_none = callback, None, 0
            if hasattr(f, "to_include"):
                include = [[t[0], bool(t[1]), t[2] if len(t) > 2 else 0] for t in f.to_include]
                append_none = getattr(f, "append_none", 0)
                f = f.node_builder
            if getattr(f, "__self__", None) is builder:
                target = str(rule.alias or name)  # the method Lark called
                assert getattr(builder, target) == f, (rule, f)
            elif isinstance(f, functools.partial):
                target = SPLICE
            else:
                raise AssertionError(f"unexpected Lark callback for {rule}: {f!r}")
            rules.append([size, name, target, include, append_none])
        index[rule] = len(rules) - 1
    actions = {
        str(state): {
            str(kind): (arg if action is Shift else [index[arg]])
            for kind, (action, arg) in row.items()
        }
        for state, row in table.states.items()
    }
    # The lexer: Lark's terminals in Lark's order, keywords matched as names.
    terms = list(lark.lexer_conf.terminals)
    keywords = {}
    for t in terms:
        if isinstance(t.pattern, PatternStr):
            for r in terms:
                if isinstance(r.pattern, PatternRE) and re.fullmatch(
                    r.pattern.to_regexp(), t.pattern.value
                ):
                    keywords[str(t.pattern.value)] = str(t.name)
    terms = [
        t for t in terms if not (isinstance(t.pattern, PatternStr) and t.pattern.value in keywords)
    ]
    terms.sort(key=lambda x: (-x.priority, -x.pattern.max_width, -len(x.pattern.value), x.name))
    terms = try_first(terms, common, lambda t: t.name, lambda t: t.pattern.to_regexp())
    return canonical(
        {
            "start": table.start_states["start"],
            "end": table.end_states["start"],
            "rules": rules,
            "actions": actions,
            "regex": "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terms),
            "blanks": "|".join(
                t.pattern.to_regexp()
                for t in terms
                if t.name in lark.lexer_conf.ignore and re.fullmatch(t.pattern.to_regexp(), " \t")
            ),
            "keywords": keywords,
            "ignore": sorted(str(name) for name in lark.lexer_conf.ignore),
        }
    )


def try_first(terms, common, name_of, regex_of):
    """`terms`, in the order a lexer tries them (the first that matches
    wins), with those named in `common` moved ahead in that order, each only
    past terminals that cannot begin with a character it can begin with: at
    any place, the terminals that could match there are still tried in the
    order they were.  Python's regex tries alternatives one by one, so the
    tokens a file is mostly made of are then found with fewer tries."""
    starts = {name_of(t): first_chars(regex_of(t)) for t in terms}
    rank = {name_of(t): k for k, t in enumerate(terms)}

    def apart(a, b):
        return starts[a] is not None and starts[b] is not None and not starts[a] & starts[b]

    moved = []
    for name in common:
        if name not in rank or name in moved:
            continue
        passed = [
            other
            for other in rank
            if (rank[other] < rank[name]) != (other in moved) and other != name
        ]
        if all(apart(name, other) for other in passed):
            moved.append(name)
    order = moved + [name_of(t) for t in terms if name_of(t) not in moved]
    by_name = {name_of(t): t for t in terms}
    return [by_name[name] for name in order]


def first_chars(regex: str) -> set | None:
    """The characters a match of `regex` can begin with; None where that is
    not worked out here (any character, then)."""
    try:
        from re import _constants as sre
        from re import _parser as sre_parse
    except ImportError:  # Python 3.10
        import sre_constants as sre
        import sre_parse

    def first(items):
        # (the first characters of a match of `items`, whether it may be empty)
        chars = set()
        for op, av in items:
            if op is sre.LITERAL:
                chars.add(chr(av))
                return chars, False
            if op is sre.IN:
                for kind, value in av:
                    if kind is sre.LITERAL:
                        chars.add(chr(value))
                    elif kind is sre.RANGE:
                        chars.update(map(chr, range(value[0], value[1] + 1)))
                    else:  # a category, a negated set
                        return None, False
                return chars, False
            if op is sre.SUBPATTERN and not av[1] and not av[2]:  # no flags set or cleared
                parts, optional = [av[3]], False
            elif op is sre.BRANCH:
                parts, optional = av[1], False
            elif op is sre.MAX_REPEAT or op is sre.MIN_REPEAT:
                parts, optional = [av[2]], av[0] == 0
            else:
                return None, False
            for part in parts:
                more, empty = first(part)
                if more is None:
                    return None, False
                chars |= more
                optional = optional or empty
            if not optional:
                return chars, False
        return chars, True

    parsed = sre_parse.parse(regex)
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    chars, empty = first(parsed)
    return None if empty else chars


def tables_module(docstring: str, grammar: str, tables: dict) -> str:
    """The text of a module holding `tables` and the `grammar` they were made
    from, as Python literals with every dict sorted (the same text under any
    hash seed), under `docstring`."""
    import pprint

    return (
        f'"""{docstring}\n"""\n\n'
        f"GRAMMAR = {grammar!r}\n\n"
        f"TABLES = {pprint.pformat(tables, width=99, sort_dicts=True)}\n"
    )


def picker(include, append_none, splice):
    """The children Lark's ChildFilterLALR passes for one rule, as a function
    of the reduced values.  `include` lists (index, expand, Nones before);
    an expanded child is a list spliced in (reused when it comes first, so
    left recursion stays linear)."""
    include = [tuple(t) for t in include]
    if not append_none and not any(expand or nones for _, expand, nones in include):
        indices = [i for i, _, _ in include]
        if len(indices) >= 2 and not splice:
            return operator.itemgetter(*indices)  # a tuple, unpacked by the Builder
        return lambda children: [children[i] for i in indices]

    def pick(children):
        kept = []
        for i, expand, nones in include:
            if nones:
                kept += [None] * nones
            if expand:
                if kept:
                    kept += children[i]
                else:
                    kept = children[i]
            else:
                kept.append(children[i])
        if append_none:
            kept += [None] * append_none
        return kept

    return pick


class Parser:
    """Runs LALR tables (from `tables_of`), calling `builder`'s methods as
    their rules reduce."""

    def __init__(self, tables, builder):
        self.start_state = tables["start"]
        self.end_state = tables["end"]
        # A reduction: (size, rule name, target, pick); target None passes the
        # only child through, SPLICE hands the children to the parent,
        # anything else is a builder method; pick(children), if not None,
        # gives the children Lark's callbacks would pass (see `picker`).
        reductions = []
        for size, name, target, include, append_none in tables["rules"]:
            if target == SPLICE:
                target = SPLICE  # this very object: the loop tests identity
            elif target is not None:
                target = getattr(builder, target)
            pick = None if include is None else picker(include, append_none, target is SPLICE)
            spec = None if include is None else ([tuple(t) for t in include], append_none)
            reductions.append((size, name, target, pick, spec))
        # actions[state][terminal]: the next state (an int) for a shift, or a
        # reduction.
        self.actions = {
            int(state): {
                kind: (act if type(act) is int else reductions[act[0]]) for kind, act in row.items()
            }
            for state, row in tables["actions"].items()
        }
        # One match a token, the blanks before it included (Lark's pattern
        # for blanks stays an alternative, for blanks at the end of the text).
        self.regex = re.compile(f"(?:{tables['blanks']})?(?:{tables['regex']})")
        self.keywords = tables["keywords"]
        self.skip = frozenset(tables["ignore"])
        self.chains = {}  # (state below, state, terminal) -> `_chain`
        # (states, kinds of a chunk's tokens) -> (replay code, states after), or
        # None for a shape seen once
        self.replays = {}

    def parse(self, source):
        """The statements of `source`, or `Rejected`.

        The lexer is inlined: one match per token (blanks included), newlines
        inside brackets dropped as in Python.  Tokens are gathered up to each
        statement separator, and the chunk goes through the LALR automaton in
        one go (a line of more than `LONG` tokens, in pieces of that many).
        What the automaton does with a chunk depends only on the
        states on the stack and the kinds of the tokens, so it is recorded
        and replayed for every chunk alike (a long file repeats a few
        shapes of line): a replay shifts and reduces the values without
        looking anything up, by code made for the shape when it comes a
        second time (making it costs more than a line once).  A shape seen
        once is remembered by its key only: a long line of varied terms
        cuts into pieces that never come again, and the steps of each would
        take far more memory than its text.
        """
        text = source.text
        match = self.regex.match
        skip = self.skip
        keywords = self.keywords
        replays = self.replays
        states = [self.start_state]
        values = []
        pos, n = 0, len(text)
        depth = 0
        chunk, kinds = [], []
        while True:
            if pos < n:  # the next token
                m = match(text, pos)
                if m is None:
                    # The tokens before it come first, as with Lark's lexer,
                    # which hands the parser one token at a time.
                    self._steps(states, values, chunk, kinds)
                    raise Rejected(states=states, pos=pos)
                kind = m.lastgroup
                stop = m.end()
                if kind in skip or (kind == "_NL" and depth):
                    pos = stop
                    continue
                if kind == "NAME":
                    value = m[kind]
                    if value in keywords:
                        kind = keywords[value]
                elif kind == "LPAR" or kind == "LSQB":
                    depth += 1
                elif (kind == "RPAR" or kind == "RSQB") and depth:
                    depth -= 1
                chunk.append(m)  # the token: Builder reads the match
                kinds.append(kind)
                pos = stop
                if kind != "_NL" and kind != "SEMICOLON" and len(kinds) < LONG:
                    continue
                # A line, or LONG tokens of a long one (a match holds ~450
                # bytes: a long line's go as they come; its pieces repeat
                # when it does).  Deep in brackets, the stack is no key.
                if len(states) > DEEP:
                    self._steps(states, values, chunk, kinds)
                    chunk, kinds = [], []
                    continue
                key = (tuple(states), tuple(kinds))
                replay = replays.get(key, False)
                if replay:
                    replay[0](chunk, values)
                    states[:] = replay[1]
                elif replay is None:  # a shape seen again: worth its code from now on
                    steps, final = self._steps(states, values, chunk, kinds, record=[])
                    replays[key] = (replayer(steps, len(chunk)), final)
                else:
                    self._steps(states, values, chunk, kinds)
                    if len(replays) < 10000:
                        replays[key] = None
                chunk, kinds = [], []
            else:
                chunk.append(Token("$END", "", source, n, n))
                kinds.append("$END")
                return self._steps(states, values, chunk, kinds)

    def _steps(self, states, values, tokens, kinds, record=None):
        """Run the automaton over `tokens`; `record`, a list, gets its steps
        (None for a shift, (size, target, pick, spec) for a reduction that makes a
        value) and the result is (steps, the states after).  At $END, the
        parse's result."""
        actions = self.actions
        end_state = self.end_state
        chains = self.chains
        for token, kind in zip(tokens, kinds):
            while True:
                state = states[-1]
                act = actions[state].get(kind)
                if act is None:
                    raise Rejected(token, kind, states)
                if type(act) is int:  # shift
                    states.append(act)
                    values.append(token)
                    if record is not None:
                        record.append(None)
                    break
                size, name, target, pick, spec = act  # reduce
                if target is None:  # rules passing their only child through
                    key = (states[-2], state, kind)
                    top = chains.get(key)
                    if top is None:
                        top = chains[key] = self._chain(states[-2], name, kind)
                    states[-1] = top
                    continue
                children = values[-size:] if size else []
                if size:
                    del states[-size:]
                    del values[-size:]
                if pick is not None:
                    children = pick(children)
                values.append(children if target is SPLICE else target(children))
                states.append(actions[states[-1]][name])
                if record is not None:
                    record.append((size, target, pick, spec))
                if states[-1] == end_state and kind == "$END":
                    return values[-1]
        return record, tuple(states)

    def expected(self, states) -> set | list:
        """The terminals a rejection with the state stack `states` expected,
        as Lark's exception gives them: what Lark's ``accepts`` finds, the
        terminals that would be shifted (or, for the end of the file, reach
        the end state) after the reductions they call for, else every
        terminal of the state."""
        actions = self.actions
        terminals = [t for t in actions[states[-1]] if t.isupper()]
        accepts = set()
        for t in terminals:
            stack = list(states)
            while True:
                act = actions[stack[-1]].get(t)
                if act is None:
                    break
                if type(act) is int:
                    accepts.add(t)
                    break
                size, name = act[0], act[1]
                if size:
                    del stack[-size:]
                stack.append(actions[stack[-1]][name])
                if t == "$END" and stack[-1] == self.end_state:  # the end reached
                    accepts.add(t)
                    break
        return accepts or terminals

    def _chain(self, below, name, kind):
        """The state on top of `below` after a run of pass-through reductions
        (the first of rule `name`) with `kind` next: the values stay put."""
        actions = self.actions
        while True:
            top = actions[below][name]
            act = actions[top].get(kind)
            if act is None or type(act) is int or act[2] is not None:
                return top
            name = act[1]


LONG = 256  # tokens of a line run at once at most; a longer one goes in pieces
DEEP = 64  # states on the stack at most for a piece to be recorded


def replayer(steps, ntokens):
    """A function ``replay(tokens, values)`` doing to the value stack what
    `steps` (from `Parser._steps`) do, as straight-line code: the
    values the chunk makes are local variables until the end, each reduction
    one call with its children picked as `picker`'s function would pick
    them.  Reductions may take values from under the chunk's own (the
    statements before it)."""
    env = {}
    tokens = [f"t{k}" for k in range(ntokens)]
    lines = []
    stack = []  # the expressions for the values the chunk has pushed
    below = 0  # values taken from under them so far
    shifted = 0
    for step in steps:
        if step is None:  # shift
            stack.append(tokens[shifted])
            shifted += 1
            continue
        size, target, pick, spec = step  # reduce
        own = min(size, len(stack))
        taken = [f"values[-{below + i}]" for i in range(size - own, 0, -1)]
        below += size - own
        children = taken + (stack[len(stack) - own :] if own else [])
        del stack[len(stack) - own :]
        n = len(lines)
        if spec is not None:
            children = _picked(children, *spec, target is SPLICE, f"k{n}", lines)
        else:
            children = "[" + ", ".join(children) + "]"
        if target is not SPLICE:
            env[f"R{n}"] = target
            children = f"R{n}({children})"
        lines.append(f"v{n} = {children}")
        stack.append(f"v{n}")
    assert shifted == ntokens
    body = [f"{', '.join(tokens)}, = tokens" if tokens else "pass", *lines]
    if below:
        body.append(f"del values[-{below}:]")
    if stack:
        body.append(f"values += ({', '.join(stack)},)")
    code = "def replay(tokens, values):\n" + "".join(f"    {line}\n" for line in body)
    exec(compile(code, "<replay>", "exec"), env)
    return env["replay"]


def _picked(children, include, append_none, splice, kept, lines):
    """Code for what `picker(include, append_none, splice)` returns for the
    children written `children`: an expression, after `lines` made for it."""
    if not append_none and not any(expand or nones for _, expand, nones in include):
        picked = [children[i] for i, _, _ in include]
        if len(picked) >= 2 and not splice:
            return "(" + ", ".join(picked) + ")"  # as itemgetter's tuple
        return "[" + ", ".join(picked) + "]"
    lines.append(f"{kept} = []")
    for i, expand, nones in include:
        if nones:
            lines.append(f"{kept} += [None] * {nones}")
        if expand:
            lines.append(f"if {kept}: {kept} += {children[i]}")  # reuse a first list
            lines.append(f"else: {kept} = {children[i]}")
        else:
            lines.append(f"{kept}.append({children[i]})")
    if append_none:
        lines.append(f"{kept} += [None] * {append_none}")
    return kept
