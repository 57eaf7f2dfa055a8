"""Outputs that appear complete or not at all, and what interrupted runs leave behind.

A sink writes into a temporary file or folder beside its destination and publishes it with a
rename. The temporary name says whose it is::

    .<name>.partial-<pid>-<host>[<suffix>]      e.g. .out.mp4.partial-4711-gpu01.mp4

An interrupted run removes its temporary output on the way out. A run that could not (SIGKILL,
a power cut) leaves it behind under that name, and the next run to the same destination removes
it (:func:`remove_leftovers`) once no process with that id runs on this host. Temporary outputs
of running processes, of other hosts (a shared file system) and files that merely look similar
are never touched.
"""
import os
import re
import shutil
import socket
from pathlib import Path
from typing import List, Set

from mmrbvsr.utils.signals import deferred_signals

# temporary paths this process is writing: never leftovers, even though our pid runs
_ACTIVE: Set[Path] = set()


def host_tag() -> str:
    """This host's name as it appears in temporary names (letters, digits and ``-``)."""
    return re.sub(r'[^A-Za-z0-9-]', '-', socket.gethostname())[:63] or 'localhost'


def partial_path(dest: Path, suffix: str = '') -> Path:
    """The temporary path of this process for ``dest`` (same folder: renames are atomic)."""
    return dest.with_name(f'.{dest.name}.partial-{os.getpid()}-{host_tag()}{suffix}')


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def claim(path: Path) -> Path:
    """Marks ``path`` (from :func:`partial_path`) as being written by this process.

    Something already there under our name belongs to an earlier process that had our id and
    was killed: it is removed.

    Raises:
        FileExistsError: If this process is already writing ``path`` (two sinks, one target).
    """
    if path in _ACTIVE:
        raise FileExistsError(f'{str(path)!r} is already being written by this process')
    _remove(path)
    _ACTIVE.add(path)
    return path


def release(path: Path) -> None:
    """Removes ``path`` if it still exists and forgets it."""
    try:
        _remove(path)
    finally:
        _ACTIVE.discard(path)


def pid_running(pid: int) -> bool:
    """Whether a process with this id runs on this host (zombies and others' count)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _leftover_pattern(dest: Path) -> 're.Pattern':
    suffixes = '|'.join(re.escape(s) for s in {'.old', dest.suffix} if s)
    return re.compile(rf'\.{re.escape(dest.name)}\.partial-(\d+)-([A-Za-z0-9-]+)({suffixes})?')


def find_leftovers(dest: Path) -> List[Path]:
    """Temporary outputs for ``dest`` left by processes of this host that no longer run."""
    dest = Path(dest)
    try:
        names = sorted(os.listdir(dest.parent if str(dest.parent) else '.'))
    except OSError:
        return []
    pattern, host = _leftover_pattern(dest), host_tag()
    found = []
    for name in names:
        match = pattern.fullmatch(name)
        if match is None or match[2] != host:
            continue
        path = dest.with_name(name)
        pid = int(match[1])
        if path in _ACTIVE or (pid != os.getpid() and pid_running(pid)):
            continue
        found.append(path)
    return found


def remove_leftovers(dest: Path) -> List[str]:
    """Removes what interrupted runs to ``dest`` left behind (see the module docstring).

    A previous output that a killed run had moved aside to replace it (``.old``) is put back
    when the destination is missing, else removed (the replacement had completed).

    Returns:
        list[str]: One line per path removed or restored.
    """
    dest = Path(dest)
    done = []
    for path in find_leftovers(dest):
        if path.name.endswith('.old') and not dest.exists() and not dest.is_symlink():
            with deferred_signals():
                os.replace(path, dest)
            done.append(f'restored {str(dest)!r} from {path.name!r}, which an interrupted run '
                        'had moved aside')
            continue
        _remove(path)
        done.append(f'removed {str(path)!r}, left by an interrupted run')
    return done


def publish_file(tmp: Path, dest: Path, overwrite: bool) -> None:
    """Moves the finished file ``tmp`` to ``dest`` in one step.

    Raises:
        FileExistsError: If ``dest`` appeared meanwhile and ``overwrite`` is off.
    """
    with deferred_signals():
        if overwrite:
            os.replace(tmp, dest)
        else:
            try:  # a hard link never replaces an existing file
                os.link(tmp, dest)
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links
                if dest.exists() or dest.is_symlink():
                    raise FileExistsError(str(dest)) from None
                os.replace(tmp, dest)
            else:
                os.unlink(tmp)
        _ACTIVE.discard(tmp)


def publish_folder(tmp: Path, dest: Path, overwrite: bool) -> None:
    """Moves the finished folder ``tmp`` to ``dest``; a replaced folder is deleted afterwards.

    Raises:
        FileExistsError: If ``dest`` appeared meanwhile and ``overwrite`` is off.
    """
    old = None
    with deferred_signals():
        if dest.exists() or dest.is_symlink():
            if not overwrite:
                raise FileExistsError(str(dest))
            old = claim(partial_path(dest, '.old'))
            os.replace(dest, old)
        os.replace(tmp, dest)
        _ACTIVE.discard(tmp)
    if old is not None:
        release(old)
