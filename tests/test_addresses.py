import pytest

from digest.config._addresses import address, address_list, split_addresses
from digest.errors import Invalid


def test_a_quoted_name_keeps_its_comma_and_each_address_is_its_own_entry():
    found = split_addresses('"Lee, Bo" <bo@x.org>, ana@x.org')
    assert found == ['"Lee, Bo" <bo@x.org>', "ana@x.org"]
    assert address_list(["a@x.org", "b@x.org, c@x.org"]) == ("a@x.org", "b@x.org", "c@x.org")


@pytest.mark.parametrize(
    "value", ["a@x.org b@x.org", "a@x.org <b@x.org", "nobody", "Bo\u2028Bcc: e@x.org <bo@x.org>"]
)
def test_anything_but_an_address_list_is_refused(value):
    with pytest.raises(Invalid):
        split_addresses(value)


def test_one_address_means_one():
    with pytest.raises(Invalid, match="holds 2 addresses"):
        address("a@x.org, b@x.org")
