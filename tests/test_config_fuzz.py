"""Whatever the config file holds, the loader answers with a Config or one ConfigError line
naming the file: never a traceback. Hypothesis throws random YAML structures, values and
bytes at it (bounded, so this runs in seconds)."""

from __future__ import annotations

import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from digest.config._loader import load_config, parse_config
from digest.config._settings import FEED_SETTINGS, SETTINGS
from digest.errors import ConfigError

CONFIG = Path("/srv/digest/fuzz.yaml")
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["48h", "0m", "-3d", "10MB", "1e9GB", "smtp", "file", "Europe/Paris",
                     "Mars/Olympus", "https://x.example/f.xml", "file:///etc", "htp:/x", "~",
                     "a\x00b", "0 7 * * *", "* * *", "../../..", "ops@example.org", "@"]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)  # fmt: skip
# Mostly valid values with random ones mixed in, so that the loader gets past the first key
# and every parser, section and feed entry sees hostile input.
GOOD_VALUES = {
    "title": ["Brief"], "window": ["48h", "7d"], "max_items": [5], "storage": ["state.db"],
    "timezone": ["Europe/Paris"], "language": ["fr"], "contact_url": ["https://x.example/"],
    "method": ["file", "smtp"], "to": ["a@example.org"], "from": ["b@example.org"],
    "host": ["localhost"], "port": [2525], "security": ["none"], "timeout": [5],
    "max_bytes": ["1MB"], "allow_private": [True], "robots": [False], "after": ["2h"],
    "name": ["One", "Two"], "url": ["https://one.example/f.xml", "feeds/two.xml"],
}  # fmt: skip


def _value(key: str) -> st.SearchStrategy:
    good = GOOD_VALUES.get(key)
    return st.one_of(st.sampled_from(good), st.sampled_from(good), values) if good else values


sections: dict[str, list[str]] = {}
for setting in SETTINGS:
    section, _, key = setting.key.rpartition(".")
    if section:
        sections.setdefault(section, []).append(key)
top = {s.key: _value(s.key) for s in SETTINGS if "." not in s.key and s.key != "title"}
top.update({
    name: st.dictionaries(st.sampled_from([*keys, "nope"]), st.deferred(lambda: values),
                          max_size=4).flatmap(lambda d: st.fixed_dictionaries(
                              {k: _value(k) for k in d}))
    for name, keys in sections.items()
})  # fmt: skip
feed = st.fixed_dictionaries(
    {"name": _value("name"), "url": _value("url")},
    optional={s.key: _value(s.key) for s in FEED_SETTINGS if s.key not in ("name", "url")}
    | {"urll": values},
)
configs = st.fixed_dictionaries(
    {"title": _value("title"), "feeds": st.lists(feed, max_size=3) | values},
    optional=top,
)


def _dump(data: object) -> str:
    from io import StringIO

    out = StringIO()
    YAML(typ="safe").dump(data, out)
    return out.getvalue()


def _loads_or_says_why(text: str) -> None:
    try:
        parse_config(text, CONFIG)
    except ConfigError as error:
        message = str(error)
        assert message.startswith(f"{CONFIG}"), message
        assert "\n" not in message, message


@FUZZ
@given(configs)
def test_random_config_structures_give_a_config_or_one_line(data):
    _loads_or_says_why(_dump(data))


@FUZZ
@given(st.text(alphabet=string.printable + "\x00\x85\u2028é€[]{}:-#&*!|>'\"%@`", max_size=200))
def test_random_text_gives_a_config_or_one_line(text):
    _loads_or_says_why(text)


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_in_a_file_give_a_config_or_one_line(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "digest.yaml"
    path.write_bytes(data)
    try:
        load_config(path)
    except ConfigError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error)
