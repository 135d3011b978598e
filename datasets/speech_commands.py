"""Speech Commands recipe: download, extract, split and label (Warden 2018).

Archives (CC BY 4.0), under :data:`BASE_URL`:

- ``speech_commands_v0.01.tar.gz``: 1,488,293,908 bytes, 30 words, ~65k clips;
- ``speech_commands_v0.02.tar.gz``: 2,428,923,189 bytes, 35 words, ~105k clips;
- ``speech_commands_test_set_v0.02.tar.gz``: 112,563,277 bytes, the canonical
  12-class test set.

Sizes and SHA-256 sums are those published alongside public loaders (sources
noted next to :data:`ARCHIVES`); where a value is not known it is ``None`` and
the download is only recorded, not verified. Every download writes the SHA-256
of what arrived to ``<archive>.sha256`` (``sha256sum`` format) beside it.

Downloads resume: bytes go to ``<archive>.part`` and an interrupted transfer
continues from its end with an HTTP ``Range`` request, either automatically
(``retries``) or on the next call. Extraction is atomic: the archive is
unpacked into a temporary sibling folder that is renamed into place only when
complete.

Layout of an extracted training archive: ``<word>/<speaker>_nohash_<n>.wav``,
``_background_noise_/*.wav``, ``validation_list.txt``, ``testing_list.txt``
(paths relative to the archive root). The test-set archive instead holds the
12 classes directly: ``<command>/``, ``_silence_/`` and ``_unknown_/`` (whose
files are named ``<word>_<speaker>_nohash_<n>.wav``).

Splits follow the official list files when present, otherwise the hash rule of
the dataset README / TensorFlow ``input_data.which_set`` (:func:`which_set`),
which keeps every speaker on one side.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import os
import re
import tarfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterable

from kws.datasets.manifest import SOURCE_REAL, ClipRecord
from kws.audio import AUDIO_EXTENSIONS
from kws.clips import BACKGROUND_NOISE_FOLDER
from kws.errors import DataError
from kws.fileio import atomic_dir, write_text_atomic

# --------------------------------------------------------------------------- #
# Vocabulary and label views
# --------------------------------------------------------------------------- #

SILENCE_LABEL = "_silence_"
UNKNOWN_LABEL = "_unknown_"

#: The ten command words of the 12-class task, in the TensorFlow tutorial's order.
COMMAND_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")

#: The 12 classes: silence, unknown, then the ten commands (TensorFlow's ``prepare_words_list`` order).
LABELS_12 = (SILENCE_LABEL, UNKNOWN_LABEL) + COMMAND_WORDS

#: The 30 words of v0.01.
WORDS_V1 = COMMAND_WORDS + (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow",
)  # fmt: skip

#: The 35 words of v0.02 (v0.01 plus five).
WORDS_V2 = WORDS_V1 + ("backward", "forward", "follow", "learn", "visual")

#: Words per dataset version.
WORDS_BY_VERSION = {"v0.01": WORDS_V1, "v0.02": WORDS_V2}

#: View names accepted by :func:`scan_speech_commands`.
VIEW_12 = "12"
VIEW_WORDS = "words"

# --------------------------------------------------------------------------- #
# Splits
# --------------------------------------------------------------------------- #

SPLIT_TRAIN = "train"
SPLIT_VALIDATION = "validation"
SPLIT_TEST = "test"
SPLITS = (SPLIT_TRAIN, SPLIT_VALIDATION, SPLIT_TEST)

VALIDATION_LIST = "validation_list.txt"
TESTING_LIST = "testing_list.txt"

#: Constant of the documented hash split (``2**27 - 1``).
MAX_NUM_WAVS_PER_CLASS = 2**27 - 1

NOHASH_MARK = "_nohash_"

# --------------------------------------------------------------------------- #
# Archives
# --------------------------------------------------------------------------- #

BASE_URL = "http://download.tensorflow.org/data/"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ArchiveInfo:
    """One downloadable archive."""

    file_name: str
    """Archive file name, appended to the base URL."""
    folder_name: str
    """Name of the folder it is extracted into."""
    size_bytes: int | None = None
    """Published size in bytes, or ``None`` when not known."""
    sha256: str | None = None
    """Published SHA-256 (lower-case hex), or ``None`` when not known."""

    def url(self, base_url: str = BASE_URL) -> str:
        return base_url.rstrip("/") + "/" + self.file_name


# Sources of the published numbers:
# - SHA-256 of v0.01 and v0.02: torchaudio.datasets.speechcommands (_CHECKSUMS).
# - size of v0.01: TensorFlow speech_commands train.py download log (1488293908 bytes).
# - sizes of v0.02 and of the test set: ESPnet egs2/speechcommands recipe (data_tar_size, test_data_tar_size).
# - SHA-256 of the test set: two independent public loaders that also check the size above.
ARCHIVES = {
    "v0.01": ArchiveInfo(
        file_name="speech_commands_v0.01.tar.gz",
        folder_name="speech_commands_v0.01",
        size_bytes=1_488_293_908,
        sha256="743935421bb51cccdb6bdd152e04c5c70274e935c82119ad7faeec31780d811d",
    ),
    "v0.02": ArchiveInfo(
        file_name="speech_commands_v0.02.tar.gz",
        folder_name="speech_commands_v0.02",
        size_bytes=2_428_923_189,
        sha256="af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58",
    ),
    "v0.02-test": ArchiveInfo(
        file_name="speech_commands_test_set_v0.02.tar.gz",
        folder_name="speech_commands_test_set_v0.02",
        size_bytes=112_563_277,
        sha256="cc2a00c1147c2254e9be3fa0f779d8c17421dc349b86366567a8edfa9acd51df",
    ),
}


class DownloadError(DataError):
    """A download that failed or stopped before the end (the ``.part`` file is kept to resume)."""


class ChecksumError(DownloadError):
    """A downloaded file whose SHA-256 or size is not the expected one."""


# --------------------------------------------------------------------------- #
# Download with resume
# --------------------------------------------------------------------------- #


def sha256_file(path: str | os.PathLike, *, chunk_bytes: int = 1 << 20) -> str:
    """SHA-256 of a file as lower-case hex, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def checksum_path(path: str | os.PathLike) -> Path:
    """The ``.sha256`` file recorded beside a downloaded file."""
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def part_path(path: str | os.PathLike) -> Path:
    """The ``.part`` file an unfinished download of ``path`` is written to."""
    path = Path(path)
    return path.with_name(path.name + ".part")


def read_recorded_checksum(path: str | os.PathLike) -> str | None:
    """The SHA-256 recorded in ``<path>.sha256``, or ``None`` if there is none."""
    sidecar = checksum_path(path)
    if not sidecar.is_file():
        return None
    fields = sidecar.read_text(encoding="utf-8").split()
    return fields[0].lower() if fields else None


def _record_checksum(path: Path, sha256: str) -> None:
    write_text_atomic(checksum_path(path), f"{sha256}  {path.name}\n")


def _verify_existing(dest: Path, expected_sha256: str | None, expected_size_bytes: int | None) -> None:
    """Check a finished download; trust a matching ``.sha256`` record to avoid re-hashing."""
    size = dest.stat().st_size
    if expected_size_bytes is not None and size != expected_size_bytes:
        raise ChecksumError(f"{dest}: size is {size} bytes, expected {expected_size_bytes}; delete it to download again")
    recorded = read_recorded_checksum(dest)
    if expected_sha256 is None:
        if recorded is None:
            _record_checksum(dest, sha256_file(dest))
        return
    if recorded == expected_sha256.lower():
        return
    actual = sha256_file(dest)
    if actual != expected_sha256.lower():
        raise ChecksumError(f"{dest}: SHA-256 is {actual}, expected {expected_sha256}; delete it to download again")
    _record_checksum(dest, actual)


def _parse_content_range(value: str | None) -> tuple[int, int | None] | None:
    """``"bytes 100-199/200"`` -> ``(100, 200)``; total ``None`` for ``*``."""
    if not value:
        return None
    match = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", value)
    if not match:
        return None
    total = None if match.group(3) == "*" else int(match.group(3))
    return int(match.group(1)), total


def _open_from(url: str, offset_bytes: int, timeout_s: float):
    """Open ``url``, asking for the bytes from ``offset_bytes`` on; ``None`` on HTTP 416."""
    headers = {"User-Agent": "kws-datasets/1", "Accept-Encoding": "identity"}
    if offset_bytes > 0:
        headers["Range"] = f"bytes={offset_bytes}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        return urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset_bytes > 0:
            return None  # nothing after offset: the .part file is already complete
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from exc


def _transfer(url: str, part: Path, *, timeout_s: float, chunk_bytes: int, progress: bool, desc: str) -> int | None:
    """One request appending to ``part`` from its current end.

    Returns
    -------
    int or None
        the total size announced by the server, or ``None`` when unknown.

    Raises
    ------
    DownloadError
        on a network error or when the connection ends before the announced size
        (the bytes received so far stay in ``part``).
    """
    from tqdm import tqdm

    offset = part.stat().st_size if part.exists() else 0
    try:
        response = _open_from(url, offset, timeout_s)
    except urllib.error.URLError as exc:
        raise DownloadError(f"{url}: cannot connect ({exc.reason})") from exc
    except OSError as exc:
        raise DownloadError(f"{url}: cannot connect ({exc})") from exc
    if response is None:
        return offset
    with response:
        content_range = _parse_content_range(response.headers.get("Content-Range"))
        length = response.headers.get("Content-Length")
        length = int(length) if length is not None and length.isdigit() else None
        if response.status == 206 and content_range is not None and content_range[0] == offset:
            mode, total = "ab", content_range[1]
        else:  # the server ignored the range (200) or answered another one: start over
            offset, mode = 0, "wb"
            total = length
        expected_end = total if total is not None else (offset + length if length is not None else None)
        received = offset
        try:
            with open(part, mode) as f, tqdm(
                total=expected_end, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
                desc=desc, disable=not progress, leave=False,
            ) as bar:  # fmt: skip
                while chunk := response.read(chunk_bytes):
                    f.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        except (OSError, http.client.HTTPException) as exc:
            raise DownloadError(f"{url}: transfer interrupted after {received} bytes ({exc}); run again to resume") from exc
    if expected_end is not None and received < expected_end:
        raise DownloadError(f"{url}: connection closed after {received} of {expected_end} bytes; run again to resume")
    return expected_end


def download_file(
    url: str,
    dest: str | os.PathLike,
    *,
    expected_sha256: str | None = None,
    expected_size_bytes: int | None = None,
    retries: int = 3,
    timeout_s: float = 60.0,
    chunk_bytes: int = 1 << 16,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``dest`` with resume and checksum verification.

    Bytes are written to ``<dest>.part``; an existing ``.part`` file is
    continued with an HTTP ``Range`` request (a server that ignores ranges
    makes it start over). Only a complete, verified file is renamed to
    ``dest``, and the SHA-256 of what arrived is written to ``<dest>.sha256``.
    An existing ``dest`` is verified and kept.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` address (redirects are followed).
    dest : path
        Final file path.
    expected_sha256 : str, optional
        Lower- or upper-case hex digest; ``None`` records without verifying.
    expected_size_bytes : int, optional
        Expected size; checked before hashing.
    retries : int
        How many times an interrupted transfer is resumed within this call.
    timeout_s : float
        Socket timeout per request in seconds.
    chunk_bytes : int
        Read size.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    DownloadError
        network failure or interrupted transfer after all retries (``.part`` kept).
    ChecksumError
        wrong size or SHA-256 (the ``.part`` file is deleted so the next call starts afresh).
    """
    dest = Path(dest)
    if dest.is_file():
        _verify_existing(dest, expected_sha256, expected_size_bytes)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    for attempt in range(retries + 1):
        try:
            if expected_size_bytes is not None and part.exists() and part.stat().st_size == expected_size_bytes:
                break  # complete from an earlier call: nothing left to ask for
            _transfer(url, part, timeout_s=timeout_s, chunk_bytes=chunk_bytes, progress=progress, desc=dest.name)
            break
        except DownloadError:
            if attempt == retries:
                raise
    return _finish_download(url, part, dest, expected_sha256, expected_size_bytes)


def _finish_download(
    url: str, part: Path, dest: Path, expected_sha256: str | None, expected_size_bytes: int | None
) -> Path:
    """Check the complete ``.part`` file, rename it to ``dest`` and record its SHA-256."""
    size = part.stat().st_size if part.exists() else 0
    if expected_size_bytes is not None and size != expected_size_bytes:
        part.unlink(missing_ok=True)
        raise ChecksumError(f"{url}: downloaded {size} bytes, expected {expected_size_bytes}; partial file removed")
    actual = sha256_file(part)
    if expected_sha256 is not None and actual != expected_sha256.lower():
        part.unlink(missing_ok=True)
        raise ChecksumError(
            f"{url}: downloaded file has SHA-256 {actual}, expected {expected_sha256.lower()}; "
            f"partial file {part} removed, run again to download afresh"
        )
    os.replace(part, dest)
    _record_checksum(dest, actual)
    return dest


# --------------------------------------------------------------------------- #
# Extraction
# --------------------------------------------------------------------------- #


def extract_archive(
    archive: str | os.PathLike, target_dir: str | os.PathLike, *, overwrite: bool = False, progress: bool = True
) -> Path:
    """Extract a ``.tar.gz`` into ``target_dir`` atomically.

    The archive is unpacked into a temporary sibling folder that replaces
    ``target_dir`` only when every member was written, so an interrupted
    extraction never leaves a half-filled folder. Members that would escape the
    folder (absolute paths, ``..``, links outside) are refused (tarfile's
    ``data`` filter).

    Parameters
    ----------
    archive : path
    target_dir : path
        Created; if it already exists it is returned as is unless ``overwrite``.
    overwrite : bool
        Replace an existing ``target_dir``.
    progress : bool
        Show a tqdm counter of extracted files.

    Returns
    -------
    Path
        ``target_dir``.

    Raises
    ------
    DataError
        the archive is missing, truncated, not a tar file, or holds an unsafe member.
    """
    from tqdm import tqdm

    archive, target = Path(archive), Path(target_dir)
    if target.is_dir() and not overwrite:
        return target
    if not archive.is_file():
        raise DataError(f"{archive}: archive not found")
    if not hasattr(tarfile, "data_filter"):
        raise DataError(f"{archive}: safe extraction needs tarfile's 'data' filter (Python 3.10.12+ / 3.11.4+)")
    try:
        with atomic_dir(target, overwrite=overwrite) as tmp, tarfile.open(archive, "r:*") as tar:
            with tqdm(unit="file", desc=f"extract {archive.name}", disable=not progress, leave=False) as bar:
                for member in tar:
                    tar.extract(member, tmp, filter="data")
                    bar.update(1)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DataError(f"{archive}: cannot extract ({exc})") from exc
    return target


def download_speech_commands(
    root: str | os.PathLike,
    version: str = "v0.02",
    *,
    archive_info: ArchiveInfo | None = None,
    base_url: str = BASE_URL,
    keep_archive: bool = True,
    retries: int = 3,
    progress: bool = True,
) -> Path:
    """Download (with resume), verify and extract one Speech Commands archive.

    Parameters
    ----------
    root : path
        Folder receiving the archive (and its ``.part``/``.sha256`` files) and the extracted folder.
    version : {"v0.01", "v0.02", "v0.02-test"}
        Which archive of :data:`ARCHIVES`.
    archive_info : ArchiveInfo, optional
        Replaces the entry of :data:`ARCHIVES` (a mirror with other sums, tests).
    base_url : str
        Folder URL the archive's file name is appended to.
    keep_archive : bool
        Keep the ``.tar.gz`` after extraction (allows re-extracting without downloading).
    retries : int
        Automatic resumes of an interrupted transfer.
    progress : bool
        Show progress bars.

    Returns
    -------
    Path
        The extracted folder ``root / archive_info.folder_name``.
    """
    if archive_info is None:
        if version not in ARCHIVES:
            raise DataError(f"unknown Speech Commands version {version!r}; choose from {sorted(ARCHIVES)}")
        archive_info = ARCHIVES[version]
    root = Path(root)
    target = root / archive_info.folder_name
    if target.is_dir():
        return target
    archive = download_file(
        archive_info.url(base_url),
        root / archive_info.file_name,
        expected_sha256=archive_info.sha256,
        expected_size_bytes=archive_info.size_bytes,
        retries=retries,
        progress=progress,
    )
    extract_archive(archive, target, progress=progress)
    if not keep_archive:
        archive.unlink()
    return target


# --------------------------------------------------------------------------- #
# File names, splits, labels
# --------------------------------------------------------------------------- #


@dataclasses.dataclass(frozen=True)
class NohashName:
    """Parts of a ``[<word>_]<speaker>_nohash_<n>`` file stem."""

    word: str | None
    """Word prefix (``_unknown_`` files of the test-set archive), else ``None``."""
    speaker: str
    """Speaker id: the ``_``-separated token just before ``_nohash_``."""
    utterance: str
    """What follows ``_nohash_`` (the repetition number)."""


def parse_nohash_name(stem: str) -> NohashName | None:
    """Split a Speech Commands file stem; ``None`` if it has no ``_nohash_`` part.

    ``"0a7c2a8d_nohash_1"`` -> speaker ``0a7c2a8d``;
    ``"bed_28497c5b_nohash_0"`` -> word ``bed``, speaker ``28497c5b``.
    """
    head, mark, tail = stem.partition(NOHASH_MARK)
    if not mark or not head:
        return None
    word, _, speaker = head.rpartition("_")
    return NohashName(word=word or None, speaker=speaker, utterance=tail)


def which_set(
    filename: str, validation_percentage: float = 10.0, testing_percentage: float = 10.0
) -> str:
    """The documented hash split of Speech Commands, for files without list files.

    The base name with ``_nohash_`` and everything after it removed is hashed
    with SHA-1; the hash modulo ``MAX_NUM_WAVS_PER_CLASS + 1``, scaled to a
    percentage, picks the set. All clips of one speaker land in the same set,
    and the assignment never changes as files are added.

    Parameters
    ----------
    filename : str
        File name or path (only the base name counts).
    validation_percentage, testing_percentage : float
        Sizes of the validation and test sets in percent.

    Returns
    -------
    str
        ``"train"``, ``"validation"`` or ``"test"``.
    """
    base_name = os.path.basename(filename)
    hash_name = re.sub(r"_nohash_.*$", "", base_name)
    hash_hex = hashlib.sha1(hash_name.encode("utf-8")).hexdigest()
    percentage_hash = (int(hash_hex, 16) % (MAX_NUM_WAVS_PER_CLASS + 1)) * (100.0 / MAX_NUM_WAVS_PER_CLASS)
    if percentage_hash < validation_percentage:
        return SPLIT_VALIDATION
    if percentage_hash < testing_percentage + validation_percentage:
        return SPLIT_TEST
    return SPLIT_TRAIN


def read_split_lists(folder: str | os.PathLike) -> dict[str, str] | None:
    """Read the official ``validation_list.txt`` and ``testing_list.txt``.

    Returns
    -------
    dict or None
        ``{"<word>/<file>.wav": "validation" | "test"}`` (``/`` separators), or
        ``None`` when neither list file exists.

    Raises
    ------
    DataError
        only one of the two list files exists, or a file is listed in both.
    """
    folder = Path(folder)
    paths = {SPLIT_VALIDATION: folder / VALIDATION_LIST, SPLIT_TEST: folder / TESTING_LIST}
    present = [split for split, path in paths.items() if path.is_file()]
    if not present:
        return None
    if len(present) == 1:
        missing = paths[SPLIT_TEST if present[0] == SPLIT_VALIDATION else SPLIT_VALIDATION]
        raise DataError(f"{missing}: missing, although {paths[present[0]].name} exists; restore it or remove both")
    assignment: dict[str, str] = {}
    for split, path in paths.items():
        for line in path.read_text(encoding="utf-8").splitlines():
            rel = line.strip().replace("\\", "/").removeprefix("./")
            if not rel:
                continue
            if assignment.get(rel, split) != split:
                raise DataError(f"{path}: {rel} is also listed in {paths[assignment[rel]].name}")
            assignment[rel] = split
    return assignment


def label_12(word: str) -> str | None:
    """Map a word folder to the 12-class task.

    Returns
    -------
    str or None
        the word for the ten commands, ``_silence_`` for ``_silence_``,
        ``None`` for ``_background_noise_`` (not a clip class) and
        ``_unknown_`` for every other word.
    """
    if word == BACKGROUND_NOISE_FOLDER:
        return None
    if word in COMMAND_WORDS or word == SILENCE_LABEL:
        return word
    return UNKNOWN_LABEL


def detect_version(folder: str | os.PathLike) -> str:
    """``"v0.02"`` if any of the five v0.02-only words is present (directly or as an ``_unknown_`` prefix)."""
    folder = Path(folder)
    new_words = set(WORDS_V2) - set(WORDS_V1)
    if any((folder / word).is_dir() for word in new_words):
        return "v0.02"
    unknown = folder / UNKNOWN_LABEL
    if unknown.is_dir():
        for path in unknown.iterdir():
            parsed = parse_nohash_name(path.stem)
            if parsed is not None and parsed.word in new_words:
                return "v0.02"
    return "v0.01"


def _word_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _clip_files(word_dir: Path) -> Iterable[Path]:
    return sorted(p for p in word_dir.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)


def _record_for(
    path: Path, folder_name: str, rel: str, *, view: str, words: tuple[str, ...], split: str
) -> ClipRecord | None:
    parsed = parse_nohash_name(path.stem)
    speaker = parsed.speaker if parsed is not None else f"{folder_name}/{path.stem}"
    word = folder_name
    if folder_name in (UNKNOWN_LABEL, SILENCE_LABEL):
        word = parsed.word if parsed is not None and parsed.word else folder_name
    if view == VIEW_12:
        label = label_12(word) if folder_name != UNKNOWN_LABEL else UNKNOWN_LABEL
    else:
        if word in (SILENCE_LABEL, UNKNOWN_LABEL):
            return None  # no word spoken, or the word is not known: not part of the word view
        if word not in words:
            raise DataError(f"{path}: word {word!r} is not one of the {len(words)} words of this version")
        label = word
    text = "" if word in (SILENCE_LABEL, UNKNOWN_LABEL) else word
    return ClipRecord(
        path=str(path), label=label, speaker=speaker, source=SOURCE_REAL, text=text,
        meta={"split": split, "word": word, "file": rel},
    )  # fmt: skip


def scan_speech_commands(
    folder: str | os.PathLike,
    *,
    view: str = VIEW_12,
    version: str | None = None,
    fixed_split: str | None = None,
    validation_percentage: float = 10.0,
    testing_percentage: float = 10.0,
) -> list[ClipRecord]:
    """List an extracted Speech Commands folder as labelled, split records.

    Parameters
    ----------
    folder : path
        Root of an extracted archive (official layout, see module docstring).
    view : {"12", "words"}
        ``"12"``: the ten commands, ``_unknown_`` for every other word, and
        ``_silence_`` for clips in a ``_silence_`` folder (the full archives
        have none; make them from background noise, see
        :func:`kws.datasets.noise.make_silence_clip`). ``"words"``: one class per
        word (35 for v0.02, 30 for v0.01); ``_silence_`` clips are left out,
        ``_unknown_/<word>_<speaker>_nohash_<n>`` clips get their word back
        and ``_unknown_`` clips without a word prefix are left out.
        ``_background_noise_`` is never a clip class.
    version : {"v0.01", "v0.02"}, optional
        Vocabulary for the ``"words"`` view; detected from the folders if omitted.
    fixed_split : {"train", "validation", "test"}, optional
        Put every clip in this split (the test-set archive is all ``"test"``).
    validation_percentage, testing_percentage : float
        Sizes for the hash rule, used when the folder has no list files.

    Returns
    -------
    list of ClipRecord
        sorted by path; ``speaker`` = token before ``_nohash_`` (else
        ``<folder>/<stem>``), ``source="real"``, ``text`` = word (empty for
        silence / unlabelled unknown), ``meta = {"split", "word", "file"}``
        where ``file`` is the path relative to ``folder``.

    Raises
    ------
    DataError
        missing folder, unknown view/version/split, a word outside the
        vocabulary in the ``"words"`` view, or inconsistent list files.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: Speech Commands folder not found")
    if view not in (VIEW_12, VIEW_WORDS):
        raise DataError(f"unknown Speech Commands view {view!r}; choose {VIEW_12!r} or {VIEW_WORDS!r}")
    if fixed_split is not None and fixed_split not in SPLITS:
        raise DataError(f"unknown split {fixed_split!r}; choose from {SPLITS}")
    version = version or detect_version(folder)
    if version not in WORDS_BY_VERSION:
        raise DataError(f"unknown Speech Commands version {version!r}; choose from {sorted(WORDS_BY_VERSION)}")
    words = WORDS_BY_VERSION[version]
    lists = read_split_lists(folder) if fixed_split is None else None
    records = []
    for word_dir in _word_folders(folder):
        if word_dir.name == BACKGROUND_NOISE_FOLDER:
            continue
        for path in _clip_files(word_dir):
            rel = f"{word_dir.name}/{path.name}"
            if fixed_split is not None:
                split = fixed_split
            elif lists is not None:
                split = lists.get(rel, SPLIT_TRAIN)
            else:
                split = which_set(path.name, validation_percentage, testing_percentage)
            record = _record_for(path, word_dir.name, rel, view=view, words=words, split=split)
            if record is not None:
                records.append(record)
    if not records:
        raise DataError(f"{folder}: no Speech Commands clips found (expected <word>/*.wav folders)")
    return records


def split_records(records: Iterable[ClipRecord]) -> dict[str, list[ClipRecord]]:
    """Group records made by :func:`scan_speech_commands` by ``meta["split"]``.

    Returns
    -------
    dict
        ``{"train": [...], "validation": [...], "test": [...]}`` (every key present).
    """
    groups: dict[str, list[ClipRecord]] = {split: [] for split in SPLITS}
    for record in records:
        split = record.meta.get("split")
        if split not in groups:
            raise DataError(f"{record.path}: record has no valid split (meta['split'] = {split!r})")
        groups[split].append(record)
    return groups


def background_noise_files(folder: str | os.PathLike) -> list[Path]:
    """The ``_background_noise_/*.wav`` files of an extracted training archive (for silence/noise)."""
    noise_dir = Path(folder) / BACKGROUND_NOISE_FOLDER
    if not noise_dir.is_dir():
        raise DataError(f"{noise_dir}: no background noise folder in this Speech Commands folder")
    return sorted(_clip_files(noise_dir))
