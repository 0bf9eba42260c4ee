"""The one exception type that reaches the user as a single line and exit code 2."""

import difflib
from collections.abc import Iterable


class StiltsError(Exception):
    """A problem the user can fix: bad input, missing data, a broken plugin.

    The CLI prints the message alone (no traceback) and exits with code 2, so the message must
    say what is wrong and how to fix it.
    """


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean …?)' suffix naming the closest choices, or '' when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.5)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
