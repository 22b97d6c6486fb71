"""Checks the command line makes before any work: where ``--out`` goes, seeds, files it reads.

Every command that writes checks its ``--out`` first, so a path it cannot write fails at
once, with one ``error:`` line, instead of after minutes of training or with a traceback.
The rule is the same for every command:

- ``--out FILE`` (``filter``, ``gallery``): the file's folder must already exist and accept
  new files; an existing file of that name is replaced; a folder, a FIFO or a device of that
  name is refused.
- ``--out FOLDER`` (``exercise``, ``experiment run``, ``report``, ``bench``): created when
  missing, parent folders included; an existing file, FIFO or device of that name is refused.

The checks leave nothing behind: a folder they create to try it is removed again, and the
command creates it once it has something to write.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..engine.errors import ConvScopeError

SEED_MAX = 2**64 - 1          # torch.manual_seed takes at most an unsigned 64-bit integer
SEED_HELP_RANGE = "0 to 2**64 - 1"
MAX_KERNEL_FILE_BYTES = 1 << 20  # a kernel written as text: 1 MiB is a 300 x 300 kernel, far beyond any image's use
MAX_GAUSSIAN_SIZE = 4097      # gaussian<size>_s<sigma>: its weights are size x size float64 (4097: 134 MB)


class OutputPathError(ConvScopeError):
    """An ``--out`` that cannot be written: a missing or read-only folder, a file where a folder goes, ..."""


class InputPathError(ConvScopeError):
    """A file the command should read that is not a regular file (a folder, a FIFO, a device) or is too large."""


def kind(path: Path) -> str:
    """What is at ``path``, in words: "nothing", "a file", "a folder", "a FIFO (named pipe)", ..."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):  # NotADirectoryError: a file on the way, as in a.txt/b
        return "a broken symbolic link" if path.is_symlink() else "nothing"
    except OSError as error:
        return f"something that cannot be inspected ({error.strerror})"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "something that is neither a file nor a folder"


def _exists(path: Path) -> bool:
    return kind(path) != "nothing"


def _nearest(path: Path) -> Path:
    """``path`` itself, or the closest of its parents that exists."""
    while not _exists(path) and path.parent != path:
        path = path.parent
    return path


def _try_writing(folder: Path) -> None:
    """Create and delete a hidden file in ``folder``: the only sure test (root passes every os.access)."""
    handle, name = tempfile.mkstemp(dir=folder, prefix=".convscope-check-")
    os.close(handle)
    os.unlink(name)


def _unwritable(out: str, where: Path, error: OSError, option: str) -> OutputPathError:
    reason = error.strerror or type(error).__name__
    return OutputPathError(f"cannot write {out!r}", expected=f"a folder that accepts new files for {option}",
                           got=f"{str(where)!r} refuses them ({reason})",
                           fix=f"choose another {option}, e.g. one in the current folder")


def output_file(out: str, suffixes: tuple[str, ...], option: str = "--out") -> Path:
    """Check ``--out FILE`` before any work; return its path."""
    path = Path(out)
    if path.suffix.lower() not in suffixes:
        raise OutputPathError(f"cannot write {out!r}", expected="a " + " or ".join(suffixes) + " file name",
                              got=repr(path.suffix or "no extension"), fix=f"name it something{suffixes[0]}")
    try:
        what = kind(path)
        if what not in ("nothing", "a file", "a broken symbolic link"):
            raise OutputPathError(f"cannot write {out!r}", expected="a new file name, or a file to replace",
                                  got=what, fix=f"choose another {option}")
        parent = path.parent
        if not parent.is_dir():
            found = kind(parent)
            raise OutputPathError(f"cannot write {out!r}", expected="an existing folder",
                                  got=f"no folder {str(parent)!r}" if found == "nothing"
                                  else f"{str(parent)!r} is {found}, not a folder",
                                  fix="create the folder first" if found == "nothing" else f"choose another {option}")
        _try_writing(parent)
    except OutputPathError:
        raise
    except OSError as error:
        raise _unwritable(out, path.parent, error, option) from error
    return path


def output_folder(out: str, option: str = "--out", files: Iterable[str] = (), folders: Iterable[str] = ()) -> Path:
    """Check ``--out FOLDER`` before any work (creating it, and its parents, to try, then removing what
    was created); ``files`` and ``folders``: names the command writes inside, which must not be
    something else already. Return the folder's path."""
    if not out.strip():
        raise OutputPathError(f"{option} is empty", expected="a folder name (created if missing)", got=repr(out),
                              fix=f"e.g. {option} results")
    path = Path(out)
    try:
        what = kind(path)
        if what != "nothing":
            if what != "a folder":
                raise OutputPathError(f"cannot write into {out!r}", expected="a folder (created if missing)",
                                      got=what, fix=f"choose another {option}")
            _try_writing(path)
            for names, wanted in ((files, "a file"), (folders, "a folder")):
                for name in names:
                    inside = kind(path / name)
                    if inside not in ("nothing", wanted):
                        raise OutputPathError(f"cannot write {str(path / name)!r}", expected=f"{wanted} or nothing "
                                              "there", got=inside, fix=f"remove it, or choose another {option}")
            return path
        ancestor = _nearest(path)
        missing = [path, *[p for p in path.parents if ancestor in p.parents]]  # the folders to create, deepest first
        found = kind(ancestor)
        if found != "a folder":
            raise OutputPathError(f"cannot create the folder {out!r}", expected="a path whose existing part is folders",
                                  got=f"{str(ancestor)!r} is {found}", fix=f"choose another {option}")
        created: list[Path] = []
        try:
            for folder in reversed(missing):
                if not _exists(folder):  # "a/../b": a/.. exists once a does
                    folder.mkdir()
                    created.append(folder)
            _try_writing(path)
        finally:
            for folder in reversed(created):
                try:
                    folder.rmdir()
                except OSError:
                    pass
    except OutputPathError:
        raise
    except OSError as error:
        raise _unwritable(out, _nearest(path), error, option) from error
    return path


def check_seed(value: int | None) -> int | None:
    """A typer callback: seeds are unsigned 64-bit integers, the range every generator convscope uses takes."""
    if value is not None and not 0 <= value <= SEED_MAX:
        shown = str(value) if len(str(value)) <= 30 else f"{str(value)[:12]}...({len(str(value))} digits)"
        raise ConvScopeError("the seed is out of range", expected=f"an integer from {SEED_HELP_RANGE} "
                             f"({SEED_MAX})", got=shown, fix="--seed 0, or any other integer in that range")
    return value


def input_file(path_text: str, what: str, option: str, max_bytes: int | None = None) -> None:
    """Refuse, with what is really there, a path that exists but is not a regular file (a folder,
    a FIFO that would block, a device such as /dev/zero that never ends) or is larger than
    ``max_bytes``. A missing path is left to the reader, whose message names the alternatives."""
    if not path_text.strip():
        raise InputPathError(f"{option} is empty", expected=what, got=repr(path_text), fix=f"name {what}")
    path = Path(path_text)
    found = kind(path)
    if found in ("nothing", "a broken symbolic link"):
        return
    if found != "a file":
        raise InputPathError(f"cannot read {path_text!r}", expected=what, got=found, fix="check the path")
    if max_bytes is not None:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputPathError(f"{path_text!r} is too large", expected=f"{what} of at most {max_bytes:,} bytes",
                                 got=f"{size:,} bytes", fix="check that it is the right file")


def input_folder(path_text: str, what: str, option: str) -> None:
    """An empty string is not "no folder": refuse it rather than silently ignoring the option."""
    if not path_text.strip():
        raise InputPathError(f"{option} is empty", expected=what, got=repr(path_text),
                             fix=f"name the folder, or leave out {option}")
