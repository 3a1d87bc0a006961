import pytest

from apps.core.outbound import OutboundAddressDenied, check_address, is_allowed


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "::1", "169.254.169.254", "169.254.10.1", "fe80::1", "0.0.0.0", "localhost", "::ffff:127.0.0.1", "224.0.0.1"],
)
def test_default_policy_denies_loopback_link_local_metadata(settings, host):
    settings.OUTBOUND_ALLOW = []
    with pytest.raises(OutboundAddressDenied):
        check_address(host)


@pytest.mark.parametrize("host", ["10.1.2.3", "172.16.0.5", "192.168.1.10", "8.8.8.8"])
def test_default_policy_allows_private_and_public(settings, host):
    settings.OUTBOUND_ALLOW = []
    check_address(host)  # resolving a literal sends no traffic


def test_allow_list_wins_and_deny_list_wins_over_allow(settings):
    settings.OUTBOUND_ALLOW = ["127.0.0.0/8"]
    assert is_allowed("127.0.0.1")
    settings.OUTBOUND_DENY = ["127.0.0.1/32"]
    assert not is_allowed("127.0.0.1")
    settings.OUTBOUND_DENY = ["10.0.0.0/8"]
    assert not is_allowed("10.9.9.9")


def test_metadata_denied_even_with_broad_allow_of_private(settings):
    settings.OUTBOUND_ALLOW = ["10.0.0.0/8"]
    assert not is_allowed("169.254.169.254")


def test_unresolvable_name_is_a_clear_error(settings):
    with pytest.raises(OutboundAddressDenied, match="cannot resolve"):
        check_address("no-such-host.invalid")
