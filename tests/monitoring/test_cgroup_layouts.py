"""Layout detection and parsing for the cgroup layouts this machine does not have (v2,
systemd), on a fake tree; the real v1 tree is exercised by the engine tests."""

from datetime import UTC, datetime

import pytest

from apps.engine.stats import CgroupReader, detect_cgroups, parse_api_stats

CID = "c" * 64


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def fake_v2_systemd(root, proc):
    base = root / f"system.slice/docker-{CID}.scope"
    write(base / "cgroup.procs", "4242\n")
    write(base / "cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nnr_periods 10\nnr_throttled 4\nthrottled_usec 300\n")
    write(base / "memory.current", "10485760\n")
    write(base / "memory.max", "max\n")
    write(base / "memory.stat", "anon 100\ninactive_file 4194304\n")
    write(base / "io.stat", "8:0 rbytes=1000 wbytes=2000 rios=1 wios=2\n8:16 rbytes=5 wbytes=0\n")
    write(base / "pids.current", "3\n")
    write(proc / "4242/net/dev", "h1\nh2\n    lo: 99 0 0 0 0 0 0 0 99 0 0 0 0 0 0 0\n  eth0: 1234 5 0 0 0 0 0 0 4321 6 0 0 0 0 0 0\n")


def test_cgroup_v2_systemd_is_detected_and_read(tmp_path):
    root, proc = tmp_path / "cg", tmp_path / "proc"
    fake_v2_systemd(root, proc)
    layout = detect_cgroups(CID, str(root), str(proc))
    assert (layout.version, layout.driver) == (2, "systemd")
    s = CgroupReader(layout, str(proc)).read(CID)
    assert s.cpu_ns == 2_500_000_000 and (s.cpu_periods, s.cpu_throttled_periods) == (10, 4)
    assert s.mem_usage == 10485760 and s.mem_working_set == 10485760 - 4194304 and s.mem_limit is None
    assert (s.blk_read, s.blk_write, s.pids) == (1005, 2000, 3)
    assert (s.net_rx, s.net_tx) == (1234, 4321)  # loopback left out


def test_no_layout_means_the_api(tmp_path):
    assert detect_cgroups(CID, str(tmp_path), str(tmp_path)) is None


def test_api_stats_parse_working_set_as_the_cli():
    data = {
        "read": "2026-11-30T08:00:00.123456789Z",
        "cpu_stats": {"cpu_usage": {"total_usage": 5}, "throttling_data": {"periods": 2, "throttled_periods": 1}},
        "memory_stats": {"usage": 1000, "limit": 2000, "stats": {"inactive_file": 300}},
        "networks": {"eth0": {"rx_bytes": 7, "tx_bytes": 8}, "eth1": {"rx_bytes": 1, "tx_bytes": 1}},
        "blkio_stats": {"io_service_bytes_recursive": [{"op": "read", "value": 4}, {"op": "Write", "value": 6}]},
        "pids_stats": {"current": 2},
    }
    s = parse_api_stats(CID, data)
    assert s.mem_working_set == 700 and s.mem_limit == 2000 and (s.net_rx, s.net_tx) == (8, 9)
    assert (s.blk_read, s.blk_write, s.pids, s.cpu_throttled_periods) == (4, 6, 2, 1)
    assert s.read_at == pytest.approx(datetime(2026, 11, 30, 8, 0, 0, 123456, tzinfo=UTC).timestamp())
