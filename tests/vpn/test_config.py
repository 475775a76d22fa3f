"""The OpenVPN configuration check (``vpn.config``): every refused directive with its line
number, tap changed to tun, inline blocks, file references, overlong lines, bad characters."""

from __future__ import annotations

import pytest

from vpn import config

GOOD = """# a client configuration as an OpenVPN server exports it
client
dev tun
proto udp
remote 198.51.100.20 1194
resolv-retry infinite
nobind
persist-key
persist-tun
remote-cert-tls server
cipher AES-256-GCM
route-noexec
verb 3
<ca>
-----BEGIN CERTIFICATE-----
MIIBszCCAVmgAwIBAgIU
-----END CERTIFICATE-----
</ca>
<cert>
-----BEGIN CERTIFICATE-----
MIIB
-----END CERTIFICATE-----
</cert>
<key>
-----BEGIN PRIVATE KEY-----
MIGH
-----END PRIVATE KEY-----
</key>
<tls-crypt>
-----BEGIN OpenVPN Static key V1-----
abcdef
-----END OpenVPN Static key V1-----
</tls-crypt>
"""


def test_a_usual_client_configuration_with_inline_blocks_passes() -> None:
    checked = config.check(GOOD)
    assert checked.ok, checked.problems
    assert checked.blocks == ["ca", "cert", "key", "tls-crypt"]
    assert checked.server_ip == "198.51.100.20"
    assert checked.text == GOOD.rstrip("\n") + "\n" or checked.text.startswith("# a client")


def test_a_host_name_remote_shows_no_server_ip() -> None:
    checked = config.check(GOOD.replace("198.51.100.20", "vpn.example.com"))
    assert checked.ok
    assert checked.server_ip == ""


@pytest.mark.parametrize("directive", sorted(config.REFUSED))
def test_every_directive_that_runs_programs_or_uses_files_is_refused_with_its_line(directive: str) -> None:
    text = GOOD.replace("verb 3", f"{directive} /tmp/x.sh", 1)
    line = GOOD.splitlines().index("verb 3") + 1
    checked = config.check(text)
    assert not checked.ok
    assert any(p.line == line and directive in p.message for p in checked.problems), checked.problems
    assert f"Line {line}:" in str(checked.problems[0])


@pytest.mark.parametrize(
    ("line", "expected"),
    [("dev tap", "dev tun"), ("dev tap0", "dev tun"), ("dev-type tap", "dev-type tun")],
)
def test_tap_is_changed_to_tun_and_the_user_is_told(line: str, expected: str) -> None:
    checked = config.check(GOOD.replace("dev tun", line if line.startswith("dev ") else f"dev tun\n{line}"))
    assert checked.ok
    assert expected in checked.text.splitlines()
    assert "tap" not in checked.text.replace("tun", "")
    assert any("tun" in n for n in checked.notes)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("client\ndev tun\nca /etc/ssl/ca.crt\nremote 1.2.3.4", "inline"),
        ("client\ndev tun\nremote 1.2.3.4\nfrobnicate yes", "does not know"),
        ("client\ndev tun\nremote 1.2.3.4\n<ca>\nxyz", "not closed"),
        ("client\ndev tun\nremote 1.2.3.4\n<script>\nx\n</script>", "not allowed"),
        ("client\ndev tun\nremote 1.2.3.4 99999", "65535"),
        ("client\ndev tun\nremote bad;host", "host name"),
        ("client\ndev tun\nremote 1.2.3.4\nverb '3", "quote"),
        ("client\ndev tun\nremote 1.2.3.4\nverb 3\x00", "control"),
        ("client\ndev tun\nremote 1.2.3.4\nverb 3\x1b[2J", "control"),
        ("client\ndev tun\nremote 1.2.3.4\nverb " + "3" * 300, "256"),
        ("client\ndev tun\nremote 1.2.3.4\nverb 3 \udcff", "Unicode"),
        ("client\ndev tun\n", "remote"),
        ("client\nremote 1.2.3.4\n", "dev"),
        ("x" * (config.MAX_BYTES + 1), "KiB"),
        ("client\ndev tun\nremote 1.2.3.4\n$(reboot)", "not an OpenVPN directive"),
        ("client\ndev tun\nremote 1.2.3.4\n`id`", "not an OpenVPN directive"),
    ],
)
def test_bad_configurations_are_refused(text: str, fragment: str) -> None:
    checked = config.check(text)
    assert not checked.ok
    assert any(fragment in str(p) for p in checked.problems), checked.problems


def test_shell_metacharacters_in_arguments_stay_inert_text() -> None:
    # arguments are never run: a value with ; | $() only ends up in the file as written
    checked = config.check(GOOD.replace("verb 3", 'pull-filter ignore "route;reboot|$(id)"'))
    assert checked.ok
    assert 'pull-filter ignore "route;reboot|$(id)"' in checked.text


def test_decode_takes_utf8_only_and_limits_the_size() -> None:
    assert config.decode("\ufeffclient\n".encode()) == "client\n"
    with pytest.raises(ValueError, match="UTF-8"):
        config.decode(b"client\n\xff\xfe")
    with pytest.raises(ValueError, match="KiB"):
        config.decode(b"#" * (config.MAX_BYTES + 1))
