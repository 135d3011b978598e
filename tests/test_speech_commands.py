"""Speech Commands recipe: download/resume/checksum against a local HTTP server,
atomic extraction, official and hash-based splits, label views."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import re
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from kws.datasets import speech_commands as sc
from kws.datasets.paths import data_folder
from kws.errors import DataError

# --------------------------------------------------------------------------- #
# A local HTTP server that understands "Range: bytes=N-" and can cut transfers
# --------------------------------------------------------------------------- #


@dataclasses.dataclass
class ServerState:
    files: dict[str, bytes]
    honour_range: bool = True
    cut_after_bytes: list[int] = dataclasses.field(default_factory=list)
    """Per request, in order: send only this many body bytes, then close."""
    range_headers: list[str | None] = dataclasses.field(default_factory=list)


class RangeHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server naming)
        state: ServerState = self.server.state
        body = state.files.get(self.path.lstrip("/"))
        range_header = self.headers.get("Range")
        state.range_headers.append(range_header)
        if body is None:
            self.send_error(404)
            return
        start = 0
        if range_header and state.honour_range:
            start = int(re.fullmatch(r"bytes=(\d+)-", range_header).group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        payload = body[start:]
        if state.cut_after_bytes:
            payload = payload[: state.cut_after_bytes.pop(0)]
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    httpd.state = ServerState(files={})
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def payload_bytes(n: int = 20_000) -> bytes:
    return np.random.default_rng(7).integers(0, 256, n, dtype=np.uint8).tobytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- #
# A tiny dataset in the official layout
# --------------------------------------------------------------------------- #


def write_clip(path: Path, seed: int, n_samples: int = 400) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = np.random.default_rng(seed).integers(-3000, 3000, n_samples).astype(np.int16)
    sf.write(str(path), pcm, 16000, subtype="PCM_16")


OFFICIAL_FILES = [
    "yes/aaaa1111_nohash_0.wav",
    "yes/bbbb2222_nohash_0.wav",
    "yes/cccc3333_nohash_1.wav",
    "no/aaaa1111_nohash_0.wav",
    "no/cccc3333_nohash_0.wav",
    "bed/bbbb2222_nohash_0.wav",
    "backward/dddd4444_nohash_0.wav",
    "_background_noise_/white_noise.wav",
]


def make_official_layout(root: Path, *, with_lists: bool) -> Path:
    for i, rel in enumerate(OFFICIAL_FILES):
        write_clip(root / rel, seed=i)
    if with_lists:
        (root / sc.VALIDATION_LIST).write_text("yes/bbbb2222_nohash_0.wav\nbed/bbbb2222_nohash_0.wav\n")
        (root / sc.TESTING_LIST).write_text("no/cccc3333_nohash_0.wav\nyes/cccc3333_nohash_1.wav\ngone/x_nohash_0.wav\n")
    return root


def make_tar_gz(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname="./" + path.relative_to(folder).as_posix(), recursive=False)
    return buffer.getvalue()


# --------------------------------------------------------------------------- #
# Download
# --------------------------------------------------------------------------- #


def test_download_verifies_and_records_checksum(server, tmp_path):
    data = payload_bytes()
    server.state.files["a.bin"] = data
    dest = sc.download_file(server.url + "a.bin", tmp_path / "a.bin", expected_sha256=sha256(data),
                            expected_size_bytes=len(data), progress=False)  # fmt: skip
    assert dest.read_bytes() == data
    assert sc.read_recorded_checksum(dest) == sha256(data)
    assert sc.checksum_path(dest).read_text().split() == [sha256(data), "a.bin"]
    assert not sc.part_path(dest).exists()
    assert server.state.range_headers == [None]


def test_download_without_known_checksum_records_it(server, tmp_path):
    data = payload_bytes(5000)
    server.state.files["a.bin"] = data
    dest = sc.download_file(server.url + "a.bin", tmp_path / "a.bin", progress=False)
    assert sc.read_recorded_checksum(dest) == sha256(data)


def test_interrupted_download_resumes_on_next_call(server, tmp_path):
    data = payload_bytes()
    server.state.files["a.bin"] = data
    server.state.cut_after_bytes = [5000]
    dest = tmp_path / "a.bin"
    with pytest.raises(sc.DownloadError, match="run again to resume"):
        sc.download_file(server.url + "a.bin", dest, expected_sha256=sha256(data), retries=0, progress=False)
    assert not dest.exists()
    assert sc.part_path(dest).read_bytes() == data[:5000]

    sc.download_file(server.url + "a.bin", dest, expected_sha256=sha256(data), retries=0, progress=False)
    assert dest.read_bytes() == data
    assert server.state.range_headers == [None, "bytes=5000-"]


def test_interrupted_download_resumes_within_one_call(server, tmp_path):
    data = payload_bytes()
    server.state.files["a.bin"] = data
    server.state.cut_after_bytes = [3000, 4000]
    dest = sc.download_file(server.url + "a.bin", tmp_path / "a.bin", expected_sha256=sha256(data),
                            retries=2, progress=False)  # fmt: skip
    assert dest.read_bytes() == data
    assert server.state.range_headers == [None, "bytes=3000-", "bytes=7000-"]


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    data = payload_bytes()
    server.state.files["a.bin"] = data
    server.state.honour_range = False
    dest = tmp_path / "a.bin"
    sc.part_path(dest).write_bytes(b"stale bytes from another file")
    sc.download_file(server.url + "a.bin", dest, expected_sha256=sha256(data), progress=False)
    assert dest.read_bytes() == data
    assert server.state.range_headers == ["bytes=29-"]


def test_complete_part_file_is_finished_without_body(server, tmp_path):
    data = payload_bytes()
    server.state.files["a.bin"] = data
    dest = tmp_path / "a.bin"
    sc.part_path(dest).write_bytes(data)
    sc.download_file(server.url + "a.bin", dest, expected_sha256=sha256(data), progress=False)
    assert dest.read_bytes() == data
    assert server.state.range_headers == [f"bytes={len(data)}-"]  # answered 416


def test_checksum_mismatch_raises_and_discards_part(server, tmp_path):
    data = payload_bytes()
    server.state.files["a.bin"] = data
    dest = tmp_path / "a.bin"
    wrong = "0" * 64
    with pytest.raises(sc.ChecksumError, match=f"SHA-256 {sha256(data)}, expected {wrong}"):
        sc.download_file(server.url + "a.bin", dest, expected_sha256=wrong, progress=False)
    assert not dest.exists()
    assert not sc.part_path(dest).exists()


def test_size_mismatch_raises(server, tmp_path):
    data = payload_bytes()
    server.state.files["a.bin"] = data
    with pytest.raises(sc.ChecksumError, match=f"downloaded {len(data)} bytes, expected 12"):
        sc.download_file(server.url + "a.bin", tmp_path / "a.bin", expected_size_bytes=12, progress=False)


def test_existing_file_with_wrong_checksum_is_reported(tmp_path):
    dest = tmp_path / "a.bin"
    dest.write_bytes(b"not the archive")
    with pytest.raises(sc.ChecksumError, match=str(dest)):
        sc.download_file("http://127.0.0.1:9/never", dest, expected_sha256="1" * 64, progress=False)


def test_http_error_and_unreachable_server(server, tmp_path):
    with pytest.raises(sc.DownloadError, match="HTTP 404"):
        sc.download_file(server.url + "missing.bin", tmp_path / "m.bin", retries=0, progress=False)
    with pytest.raises(sc.DownloadError, match="cannot connect"):
        sc.download_file("http://127.0.0.1:9/x.bin", tmp_path / "x.bin", retries=0, timeout_s=2, progress=False)


def test_official_archive_table():
    assert sc.ARCHIVES["v0.01"].url() == "http://download.tensorflow.org/data/speech_commands_v0.01.tar.gz"
    assert sc.ARCHIVES["v0.02"].url() == "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz"
    assert sc.ARCHIVES["v0.02-test"].url().endswith("/speech_commands_test_set_v0.02.tar.gz")
    for info in sc.ARCHIVES.values():
        assert info.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", info.sha256)


# --------------------------------------------------------------------------- #
# Extraction and the whole recipe
# --------------------------------------------------------------------------- #


def test_download_speech_commands_end_to_end(server, tmp_path):
    archive = make_tar_gz(make_official_layout(tmp_path / "src", with_lists=True))
    server.state.files["speech_commands_v0.02.tar.gz"] = archive
    server.state.cut_after_bytes = [len(archive) // 2]
    info = dataclasses.replace(sc.ARCHIVES["v0.02"], sha256=sha256(archive), size_bytes=len(archive))
    root = tmp_path / "data"
    folder = sc.download_speech_commands(root, archive_info=info, base_url=server.url, progress=False)
    assert folder == root / "speech_commands_v0.02"
    assert (folder / "yes" / "aaaa1111_nohash_0.wav").is_file()
    assert len(server.state.range_headers) == 2  # cut once, resumed once
    records = sc.scan_speech_commands(folder)
    assert len(records) == 7
    # already there: no network
    assert sc.download_speech_commands(root, archive_info=info, base_url=server.url, progress=False) == folder
    assert len(server.state.range_headers) == 2
    assert sorted(p.name for p in root.iterdir()) == [
        "speech_commands_v0.02", "speech_commands_v0.02.tar.gz", "speech_commands_v0.02.tar.gz.sha256",
    ]  # fmt: skip


def test_extract_truncated_archive_leaves_nothing(tmp_path):
    archive = make_tar_gz(make_official_layout(tmp_path / "src", with_lists=False))
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(archive[: len(archive) // 2])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(DataError, match="bad.tar.gz: cannot extract"):
        sc.extract_archive(bad, out / "sc", progress=False)
    assert list(out.iterdir()) == []


def test_extract_refuses_member_outside_target(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("../evil.txt")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(buffer.getvalue())
    with pytest.raises(DataError, match="cannot extract"):
        sc.extract_archive(archive, tmp_path / "out" / "x", progress=False)
    assert not (tmp_path / "out" / "evil.txt").exists()
    assert not (tmp_path / "out" / "x").exists()


# --------------------------------------------------------------------------- #
# Names and splits
# --------------------------------------------------------------------------- #


def test_parse_nohash_name():
    assert sc.parse_nohash_name("0a7c2a8d_nohash_1") == sc.NohashName(None, "0a7c2a8d", "1")
    assert sc.parse_nohash_name("bed_28497c5b_nohash_0") == sc.NohashName("bed", "28497c5b", "0")
    assert sc.parse_nohash_name("1037") is None


def test_which_set_follows_documented_formula():
    name = "0a7c2a8d_nohash_1.wav"
    value = int(hashlib.sha1(b"0a7c2a8d").hexdigest(), 16) % (2**27) * (100.0 / (2**27 - 1))
    expected = "validation" if value < 10 else "test" if value < 20 else "train"
    assert sc.which_set(name) == expected
    assert sc.which_set("yes/" + name) == expected  # only the base name counts


def test_which_set_keeps_speakers_together_and_has_documented_sizes():
    rng = np.random.default_rng(0)
    speakers = [f"{v:08x}" for v in rng.integers(0, 2**32, 4000)]
    sets = [sc.which_set(f"{s}_nohash_0.wav") for s in speakers]
    assert all(sc.which_set(f"{s}_nohash_{k}.wav") == first for s, first in zip(speakers[:200], sets) for k in (1, 4))
    shares = {split: sets.count(split) / len(sets) for split in sc.SPLITS}
    assert shares["validation"] == pytest.approx(0.1, abs=0.02)
    assert shares["test"] == pytest.approx(0.1, abs=0.02)
    assert sc.which_set(f"{speakers[0]}_nohash_0.wav", 0.0, 0.0) == "train"


def test_split_by_official_lists(tmp_path):
    folder = make_official_layout(tmp_path / "sc", with_lists=True)
    records = sc.scan_speech_commands(folder)
    by_file = {r.meta["file"]: r.meta["split"] for r in records}
    assert by_file == {
        "yes/aaaa1111_nohash_0.wav": "train",
        "yes/bbbb2222_nohash_0.wav": "validation",
        "yes/cccc3333_nohash_1.wav": "test",
        "no/aaaa1111_nohash_0.wav": "train",
        "no/cccc3333_nohash_0.wav": "test",
        "bed/bbbb2222_nohash_0.wav": "validation",
        "backward/dddd4444_nohash_0.wav": "train",
    }
    groups = sc.split_records(records)
    assert [len(groups[s]) for s in sc.SPLITS] == [3, 2, 2]


def test_split_by_hash_without_lists(tmp_path):
    folder = make_official_layout(tmp_path / "sc", with_lists=False)
    for record in sc.scan_speech_commands(folder):
        assert record.meta["split"] == sc.which_set(Path(record.path).name)


def test_only_one_list_file_is_an_error(tmp_path):
    folder = make_official_layout(tmp_path / "sc", with_lists=True)
    (folder / sc.TESTING_LIST).unlink()
    with pytest.raises(DataError, match="testing_list.txt: missing"):
        sc.scan_speech_commands(folder)


def test_file_in_both_lists_is_an_error(tmp_path):
    folder = make_official_layout(tmp_path / "sc", with_lists=True)
    (folder / sc.TESTING_LIST).write_text("yes/bbbb2222_nohash_0.wav\n")
    with pytest.raises(DataError, match="also listed"):
        sc.scan_speech_commands(folder)


# --------------------------------------------------------------------------- #
# Label views
# --------------------------------------------------------------------------- #


def test_12_class_mapping():
    assert len(sc.LABELS_12) == 12 and set(sc.LABELS_12) == set(sc.COMMAND_WORDS) | {"_silence_", "_unknown_"}
    for word in sc.WORDS_V2:
        assert sc.label_12(word) == (word if word in sc.COMMAND_WORDS else "_unknown_")
    assert sc.label_12("_silence_") == "_silence_"
    assert sc.label_12("_background_noise_") is None
    assert len(sc.WORDS_V1) == 30 and len(set(sc.WORDS_V2)) == 35


def test_scan_12_class_view(tmp_path):
    folder = make_official_layout(tmp_path / "sc", with_lists=True)
    records = sc.scan_speech_commands(folder, view="12")
    labels = {r.meta["file"]: r.label for r in records}
    assert labels["yes/aaaa1111_nohash_0.wav"] == "yes"
    assert labels["bed/bbbb2222_nohash_0.wav"] == "_unknown_"
    assert labels["backward/dddd4444_nohash_0.wav"] == "_unknown_"
    assert not any("_background_noise_" in r.path for r in records)
    record = next(r for r in records if r.meta["file"] == "bed/bbbb2222_nohash_0.wav")
    assert (record.speaker, record.source, record.text, record.meta["word"]) == ("bbbb2222", "real", "bed", "bed")
    assert Path(record.path).is_absolute()


def test_scan_word_view_and_version(tmp_path):
    folder = make_official_layout(tmp_path / "sc", with_lists=True)
    assert sc.detect_version(folder) == "v0.02"
    records = sc.scan_speech_commands(folder, view="words")
    assert sorted({r.label for r in records}) == ["backward", "bed", "no", "yes"]
    with pytest.raises(DataError, match="'backward' is not one of the 30 words"):
        sc.scan_speech_commands(folder, view="words", version="v0.01")
    with pytest.raises(DataError, match="unknown Speech Commands view"):
        sc.scan_speech_commands(folder, view="35")


def test_scan_test_set_layout(tmp_path):
    root = tmp_path / "test_set"
    for i, rel in enumerate(["yes/aaaa1111_nohash_0.wav", "_unknown_/bed_bbbb2222_nohash_0.wav",
                             "_unknown_/learn_cccc3333_nohash_2.wav", "_silence_/1037.wav"]):  # fmt: skip
        write_clip(root / rel, seed=i)
    assert sc.detect_version(root) == "v0.02"
    records = sc.scan_speech_commands(root, fixed_split="test")
    got = {r.meta["file"]: (r.label, r.speaker, r.text) for r in records}
    assert got == {
        "yes/aaaa1111_nohash_0.wav": ("yes", "aaaa1111", "yes"),
        "_unknown_/bed_bbbb2222_nohash_0.wav": ("_unknown_", "bbbb2222", "bed"),
        "_unknown_/learn_cccc3333_nohash_2.wav": ("_unknown_", "cccc3333", "learn"),
        "_silence_/1037.wav": ("_silence_", "_silence_/1037", ""),
    }
    assert {r.meta["split"] for r in records} == {"test"}
    words = sc.scan_speech_commands(root, view="words", fixed_split="test")
    assert sorted(r.label for r in words) == ["bed", "learn", "yes"]


def test_background_noise_files(tmp_path):
    folder = make_official_layout(tmp_path / "sc", with_lists=False)
    assert [p.name for p in sc.background_noise_files(folder)] == ["white_noise.wav"]


# --------------------------------------------------------------------------- #
# The shared real data
# --------------------------------------------------------------------------- #


def real_folder(name: str) -> Path:
    folder = data_folder(name)
    if not folder.is_dir():
        pytest.skip(f"shared real data folder {folder} not found (set KWS_DATA to the folder holding it)")
    return folder


def test_scan_real_v002_test_set():
    records = sc.scan_speech_commands(real_folder("speech_commands_v0.02_test"), fixed_split="test")
    assert len(records) == 2702
    assert {r.label for r in records} == set(sc.LABELS_12)
    assert len({r.speaker for r in records if "/" not in r.speaker}) == 135


def test_scan_real_v001_samples_word_view():
    folder = real_folder("speech_commands_v0.01_samples")
    assert sc.detect_version(folder) == "v0.01"
    records = sc.scan_speech_commands(folder, view="words")
    assert {r.label for r in records} == set(sc.WORDS_V1)
    assert {r.meta["split"] for r in records} <= set(sc.SPLITS)
