"""Pure parts: frame demultiplexing, line assembly, the filter form, the stats arithmetic."""

import struct

import pytest

from apps.containers import logs, stats
from apps.engine.logs import FrameDemuxer


def frame(stream_id: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream_id, len(payload)) + payload


def test_demuxer_handles_any_split_of_frames():
    data = frame(1, b"out one\n") + frame(2, b"err one\n") + frame(1, b"out two\n")
    for size in (1, 3, 8, 9, 100):
        demux, got = FrameDemuxer(tty=False), []
        for i in range(0, len(data), size):
            got += demux.feed(data[i : i + size])
        assert got == [("stdout", b"out one\n"), ("stderr", b"err one\n"), ("stdout", b"out two\n")]


def test_tty_stream_passes_through_as_stdout():
    assert FrameDemuxer(tty=True).feed(b"\x01\x00\x00\x00raw") == [("stdout", b"\x01\x00\x00\x00raw")]


def test_line_assembler_timestamps_partial_lines_and_invalid_utf8():
    asm = logs.LineAssembler(max_chars=50)
    assert asm.feed("stdout", b"2026-11-30T08:00:00.123456789Z hel") == []
    lines = asm.feed("stdout", b"lo\xff\xfe\r\nsecond line no ts\n")
    assert [(line.ts, line.text) for line in lines] == [
        ("2026-11-30T08:00:00.123456789Z", "hello\ufffd\ufffd"),
        ("2026-11-30T08:00:00.123456789Z", "second line no ts"),  # a TTY entry's next line
    ]
    long = asm.feed("stderr", b"2026-11-30T08:00:01Z " + b"x" * 80 + b"\n")[0]
    assert long.stream == "stderr" and long.text.startswith("x" * 50) and long.text.endswith("[line cut]")
    assert asm.feed("stdout", b"tail without newline") == []
    assert [line.text for line in asm.flush()] == ["tail without newline"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"tail": "lots"}, "tail"),
        ({"tail": "10001"}, "tail"),
        ({"since": "yesterday"}, "since"),
        ({"q": "(unclosed", "regex": "on"}, "q"),
        ({"q": "a" * 201, "regex": "on"}, "q"),
        ({"since": "1h", "until": "2h"}, "until"),
        ({"stream": "stdin"}, "stream"),
    ],
)
def test_filter_form_gives_field_errors(data, field):
    form = logs.LogFilterForm(data)
    assert not form.is_valid()
    assert field in form.errors


def test_filter_form_parses_durations_dates_and_all():
    form = logs.LogFilterForm({"tail": "all", "since": "10m", "until": "2030-01-01T00:00:00Z", "q": "Err", "stream": "stderr"})
    assert form.is_valid(), form.errors
    query = form.query()
    assert query.tail is None and query.stream == "stderr"
    assert query.until == 1893456000.0
    params = query.engine_params()
    assert params["stdout"] is False and params["stderr"] is True
    match = query.matcher()
    assert match("an ERROR here") and not match("fine")
    empty = logs.LogFilterForm({})
    assert empty.is_valid() and empty.query().tail == logs.limit("default_tail")


def test_search_widens_the_engine_tail_and_literal_search_is_not_a_regex():
    query = logs.LogQuery(tail=5, q="a.c")
    assert query.engine_params()["tail"] == logs.limit("search_window")
    match = query.matcher()
    assert match("xa.cx") and not match("abc")
    assert logs.LogQuery(tail=5, q="a.c", regex=True).matcher()("abc")


def test_memory_as_the_docker_cli_counts_it():
    v1 = {"usage": 10_000, "limit": 100_000, "stats": {"total_inactive_file": 4_000, "inactive_file": 1}}
    v2 = {"usage": 10_000, "limit": 100_000, "stats": {"inactive_file": 3_000}}
    assert stats.memory_used(v1) == 6_000
    assert stats.memory_used(v2) == 7_000
    assert stats.memory_used({"usage": 500, "stats": {"total_inactive_file": 900}}) == 500  # never negative


def test_cpu_percent_and_rates_from_our_own_previous_sample():
    def raw(total, system, rx):
        return {
            "cpu_stats": {"cpu_usage": {"total_usage": total}, "system_cpu_usage": system, "online_cpus": 2},
            "precpu_stats": {"cpu_usage": {"total_usage": 0}},  # one-shot: empty
            "memory_stats": {"usage": 2048, "limit": 4096, "stats": {"total_inactive_file": 1024}},
            "networks": {"eth0": {"rx_bytes": rx, "tx_bytes": 10}, "eth1": {"rx_bytes": 1, "tx_bytes": 1}},
            "blkio_stats": {"io_service_bytes_recursive": [{"op": "Read", "value": 7}, {"op": "write", "value": 9}]},
            "pids_stats": {"current": 3},
        }

    first = stats.to_sample(raw(1_000, 100_000, 100), at=10.0)
    second_raw = raw(26_000, 200_000, 1100)
    second = stats.to_sample(second_raw, at=12.0)
    result = stats.compute(second_raw, second, first)
    assert result.cpu_percent == 50.0  # 25k of 100k system ns, times 2 CPUs
    assert result.memory_used == 1024 and result.memory_percent == 25.0
    assert result.net_rx == 1101 and result.net_rx_rate == 500.0
    assert (result.block_read, result.block_write, result.pids) == (7, 9, 3)
    assert stats.compute(second_raw, second, None).cpu_percent is None
