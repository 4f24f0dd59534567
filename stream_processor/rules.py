"""Topic rules: parse the rule language into a small boolean tree, with errors a person can act on.

Language (case-insensitive matching; operators are upper-case words):
  acme            a keyword, matched on word boundaries (also inside #acme and @acme)
  "acme corp"     a phrase (curly quotes work too)
  #acme $ACME @acme  a hashtag, a cashtag, a handle (the sigil must be there)
  a b  /  a OR b  any of them (juxtaposition means OR, like a keyword list)
  +a  /  a AND b  required terms; AND binds tighter than OR
  -a  /  NOT a    excluded terms: a post containing them never matches
  ( ... )         grouping
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

MAX_RULE_CHARS = 4000
MAX_TERMS = 500
OPERATORS = {"OR": "OR", "|": "OR", "AND": "AND", "&&": "AND", "NOT": "NOT"}
SIGILS = {"#": "hashtag", "$": "cashtag", "@": "handle"}
_QUOTES = {'"': '"', "“": "”", "”": "”", "„": "“"}


class RuleError(ValueError):
    """A rule that cannot be parsed; `position` is the 0-based character offset of the problem."""

    def __init__(self, message: str, position: int):
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position


def normalize(text: str) -> str:
    """The form both rules and posts are matched in: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True, slots=True)
class Term:
    """One searchable pattern; `pattern` is normalized, `kind` is keyword/phrase/hashtag/cashtag/handle."""

    pattern: str
    kind: str


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class All:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Any:
    children: tuple[Node, ...]


Node = Term | Not | All | Any


def evaluate(node: Node, found: frozenset[str] | set[str]) -> bool:
    """Whether a post in which exactly the patterns in `found` occur satisfies the rule."""
    if isinstance(node, Term):
        return node.pattern in found
    if isinstance(node, Not):
        return not evaluate(node.child, found)
    if isinstance(node, All):
        return all(evaluate(c, found) for c in node.children)
    return any(evaluate(c, found) for c in node.children)


def terms(node: Node) -> Iterator[Term]:
    """Every term in the rule, required, optional or excluded."""
    if isinstance(node, Term):
        yield node
    elif isinstance(node, Not):
        yield from terms(node.child)
    else:
        for child in node.children:
            yield from terms(child)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # TERM, PHRASE, OR, AND, NOT, PLUS, MINUS, LPAREN, RPAREN, EOF
    text: str
    pos: int


def _tokenize(rule: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(rule)
    while i < n:
        ch = rule[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(_Token("LPAREN" if ch == "(" else "RPAREN", ch, i))
            i += 1
        elif ch in _QUOTES:
            close = rule.find(_QUOTES[ch], i + 1)
            if close < 0 and ch != '"':
                close = rule.find('"', i + 1)
            if close < 0:
                raise RuleError("this quote is never closed", i)
            tokens.append(_Token("PHRASE", rule[i + 1 : close], i))
            i = close + 1
        elif ch in "+-" and i + 1 < n and not rule[i + 1].isspace():
            tokens.append(_Token("PLUS" if ch == "+" else "MINUS", ch, i))
            i += 1
        else:
            start = i
            while i < n and not rule[i].isspace() and rule[i] not in '()"“”„':
                i += 1
            word = rule[start:i]
            tokens.append(_Token(OPERATORS.get(word, "TERM"), word, start))
    tokens.append(_Token("EOF", "", n))
    return tokens


def _make_term(token: _Token) -> Term:
    raw = token.text
    if token.kind == "PHRASE":
        pattern = normalize(raw)
        if not pattern:
            raise RuleError("empty phrase: put words between the quotes", token.pos)
        return Term(pattern, "phrase" if " " in pattern else SIGILS.get(pattern[0], "keyword"))
    if raw in ("+", "-"):
        raise RuleError(f"'{raw}' needs a term right after it, without a space", token.pos)
    pattern = normalize(raw)
    kind = SIGILS.get(pattern[0], "keyword")
    body = pattern[1:] if kind != "keyword" else pattern
    if not any(c.isalnum() for c in body):
        if kind != "keyword":
            raise RuleError(f"'{raw[0]}' needs a name after it", token.pos)
        raise RuleError(f"'{raw}' has no letters or digits", token.pos)
    return Term(pattern, kind)


class _Parser:
    def __init__(self, rule: str):
        self.tokens = _tokenize(rule)
        self.i = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def sequence(self, depth: int) -> Node:
        """Items side by side or joined by OR: any of the plain ones, all of the +, none of the -."""
        musts: list[Node] = []
        shoulds: list[Node] = []
        nots: list[Node] = []
        while self.tok.kind not in ("EOF", "RPAREN"):
            if self.tok.kind == "OR":
                if not (musts or shoulds or nots):
                    raise RuleError("OR needs a term before it", self.tok.pos)
                self.take()
                if self.tok.kind in ("EOF", "RPAREN", "OR", "AND"):
                    raise RuleError("OR needs a term after it", self.tok.pos)
                continue
            mod, node = self.conjunction(depth)
            {"+": musts, "-": nots}.get(mod or "", shoulds).append(node)
        if self.tok.kind == "RPAREN" and depth == 0:
            raise RuleError("')' without a matching '('", self.tok.pos)
        parts = [*musts, *([_any(shoulds)] if shoulds else []), *(Not(n) for n in nots)]
        if not parts:
            raise RuleError("empty rule" if depth == 0 else "empty parentheses", self.tok.pos)
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def conjunction(self, depth: int) -> tuple[str | None, Node]:
        mod, node = self.unary(depth)
        if self.tok.kind != "AND":
            return mod, node
        items = [Not(node) if mod == "-" else node]
        while self.tok.kind == "AND":
            self.take()
            if self.tok.kind in ("EOF", "RPAREN", "OR", "AND"):
                raise RuleError("AND needs a term after it", self.tok.pos)
            mod, node = self.unary(depth)
            items.append(Not(node) if mod == "-" else node)
        return None, All(tuple(items))

    def unary(self, depth: int) -> tuple[str | None, Node]:
        token = self.tok
        if token.kind in ("NOT", "MINUS", "PLUS"):
            self.take()
            if self.tok.kind in ("EOF", "RPAREN", "OR", "AND", "NOT", "MINUS", "PLUS"):
                raise RuleError(f"'{token.text}' needs a term right after it", self.tok.pos)
            return ("+" if token.kind == "PLUS" else "-"), self.primary(depth)
        return None, self.primary(depth)

    def primary(self, depth: int) -> Node:
        token = self.take()
        if token.kind in ("TERM", "PHRASE"):
            return _make_term(token)
        if token.kind == "LPAREN":
            node = self.sequence(depth + 1)
            if self.tok.kind != "RPAREN":
                raise RuleError("this '(' is never closed", token.pos)
            self.take()
            return node
        if token.kind == "AND":
            raise RuleError("AND needs a term before it", token.pos)
        raise RuleError(f"expected a term, found '{token.text or 'end of rule'}'", token.pos)


def _any(nodes: list[Node]) -> Node:
    return nodes[0] if len(nodes) == 1 else Any(tuple(nodes))


def parse(rule: str) -> Node:
    """Parse a rule; raises RuleError naming what is wrong and where."""
    if len(rule) > MAX_RULE_CHARS:
        raise RuleError(f"rule is longer than {MAX_RULE_CHARS} characters", MAX_RULE_CHARS)
    tree = _Parser(rule).sequence(0)
    count = sum(1 for _ in terms(tree))
    if count > MAX_TERMS:
        raise RuleError(f"rule has {count} terms, over the limit of {MAX_TERMS}", 0)
    if evaluate(tree, frozenset()):
        raise RuleError("rule would match posts that contain none of its terms: add a term to look for", 0)
    return tree


def check_rule(rule: str) -> str | None:
    """None when the rule is valid, else the message to show next to the input box."""
    try:
        parse(rule)
    except RuleError as exc:
        return str(exc)
    return None
