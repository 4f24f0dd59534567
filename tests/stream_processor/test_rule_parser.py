"""The rule language: what parses into what, and errors that say what is wrong and where."""

import pytest

from stream_processor.rules import All, Any, Not, RuleError, Term, check_rule, evaluate, normalize, parse


def test_bare_terms_side_by_side_mean_any_of_them() -> None:
    assert parse("acme widgets") == Any((Term("acme", "keyword"), Term("widgets", "keyword")))
    assert parse("acme OR widgets") == parse("acme widgets")


def test_sigils_phrases_and_case_are_normalized() -> None:
    tree = parse("#Acme $ACME @AcmeSupport “Acme Corp”")
    assert tree == Any(
        (
            Term("#acme", "hashtag"),
            Term("$acme", "cashtag"),
            Term("@acmesupport", "handle"),
            Term("acme corp", "phrase"),
        )
    )


def test_required_and_excluded_terms() -> None:
    tree = parse("acme +outage -hiring")
    assert tree == All((Term("outage", "keyword"), Term("acme", "keyword"), Not(Term("hiring", "keyword"))))
    assert evaluate(tree, {"acme", "outage"})
    assert not evaluate(tree, {"acme"})
    assert not evaluate(tree, {"acme", "outage", "hiring"})


def test_and_binds_tighter_than_or_and_not_negates_groups() -> None:
    tree = parse("a OR b AND c NOT (d OR e)")
    assert evaluate(tree, {"a"})
    assert evaluate(tree, {"b", "c"})
    assert not evaluate(tree, {"b"})
    assert not evaluate(tree, {"a", "e"})


def test_and_with_excluded_operand() -> None:
    tree = parse("acme AND -hiring")
    assert evaluate(tree, {"acme"}) and not evaluate(tree, {"acme", "hiring"})


def test_hyphenated_words_stay_words() -> None:
    assert parse("e-mail") == Term("e-mail", "keyword")


def test_normalize_folds_case_width_and_whitespace() -> None:
    assert normalize("  ＡＣＭＥ\n\tCorp ") == "acme corp"
    assert normalize("STRASSE Straße") == "strasse strasse"


@pytest.mark.parametrize(
    ("rule", "message", "position"),
    [
        ("", "empty rule", 0),
        ('acme "corp', "quote is never closed", 5),
        ("(acme OR b", "'(' is never closed", 0),
        ("acme)", "')' without a matching '('", 4),
        ("OR acme", "OR needs a term before it", 0),
        ("acme OR", "OR needs a term after it", 7),
        ("acme AND", "AND needs a term after it", 8),
        ("-hiring", "none of its terms", 0),
        ("NOT acme", "none of its terms", 0),
        ("# acme", "'#' needs a name after it", 0),
        ('""', "empty phrase", 0),
        ("acme ()", "empty parentheses", 6),
        ("acme - x", "'-' needs a term", 5),
    ],
)
def test_errors_name_the_problem_and_position(rule: str, message: str, position: int) -> None:
    with pytest.raises(RuleError) as info:
        parse(rule)
    assert message in info.value.message
    assert info.value.position == position
    assert check_rule(rule) == str(info.value)


def test_check_rule_accepts_valid_rules() -> None:
    assert check_rule('#acme OR "acme corp" -hiring') is None
