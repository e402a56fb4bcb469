"""Whatever the config file holds, the loader answers with a Config or one ConfigError line
naming the file: never a traceback. Hypothesis throws random YAML structures, values and
bytes at it (bounded, so this runs in seconds)."""

from __future__ import annotations

import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from digest.config import load_config, parse_config
from digest.errors import ConfigError
from digest.settings import FEED_SETTINGS, SETTINGS

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
top_keys = sorted({s.key.split(".")[0] for s in SETTINGS} | {"feeds", "bogus"})
section_keys = sorted({s.key.rpartition(".")[2] for s in SETTINGS} | {"nope"})
feed_keys = sorted({s.key for s in FEED_SETTINGS} | {"urll"})


def _sections(draw_values):
    return st.dictionaries(st.sampled_from(section_keys), draw_values, max_size=5)


feed = st.dictionaries(st.sampled_from(feed_keys), values, max_size=5)
configs = st.fixed_dictionaries(
    {"title": values},
    optional={
        **{key: values | _sections(values) for key in top_keys if key not in ("feeds", "title")},
        "feeds": st.lists(feed, max_size=3) | values,
    },
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
