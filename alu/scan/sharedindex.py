"""The store's copy of the index file: a replica on a host without one takes it up in
seconds instead of building one.

Building the index file from the store is per-target Python: at a million enriched targets,
minutes on two cores, during which a replica cannot serve. It need not be done on every
host. The first replica that builds a file (or folds its delta into a new one) sends a copy
to the store, in the background, once the file is found to match the store's list: its
header and its body in chunks (``Store.put_index_copy``), replacing older copies. A
replica that later starts on a host with no usable file (a new machine, a container with
an empty cache) writes that copy to its host, maps it as if it had built it, and applies
the store's changes since the copy's revision as its delta, checked against the store like
any file (``TargetIndex._on_file``). It builds only where the store keeps no copy, or one
it cannot use (another version of the file, a checksum or a list that does not match); a
copy a replica refused is replaced by the one it builds at the same revision.

The copy holds what the file holds (every target's record): it is kept in the store beside
the targets, and read by whoever may read them. Its header names the store it was built
from as the builder saw it (a path, a URL); the host's copy names the store as the replica
that wrote it sees it.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from ..errors import StoreError
from ..stores.base import Store
from .indexfile import VERSION, IndexFile, write_copy

log = logging.getLogger(__name__)

CHUNK = 8 << 20  # bytes of the body a copy is sent and read in
# A list this short is built from the store in a second or two: no copy is sent.
SEND_FROM = 20_000


def take_copy(store: Store, path: Path, refused: str | None = None) -> bool:
    """The store's copy of the index file written to ``path``, naming ``store`` as its
    store; False when the store keeps none this code can use, or only the one whose
    checksum is ``refused`` (found not to match the store's list)."""
    for attempt in range(2):  # once more should a newer copy replace it while it is read
        try:
            copy = store.index_copy()
            if copy is None:
                return False
            header = json.loads(copy.header)
            if header.get("version") != VERSION or header.get("checksum") == refused:
                return False
            header["store"] = store.location
            write_copy(path, header, store.read_index_copy(copy))
        except Exception as e:  # (a store's own error, sqlite3's, a full disk...) the copy is a shortcut
            if attempt == 0 and isinstance(e, StoreError):
                continue
            log.warning("index file: the store's copy could not be taken (%s); building one", e)
            return False
        log.info("index file: took the store's copy as of revision %d", copy.revision)
        return True
    return False


def send_copy(store: Store, file: IndexFile) -> bool:
    """A copy of ``file`` kept in the store for replicas on other hosts; False when it keeps
    one as new already (or cannot keep one). Failures are logged: a replica serves without."""
    try:
        sent = store.put_index_copy(file.revision, file.header(), file.body(CHUNK))
    except Exception as e:  # the replica serves without: a later build or fold sends one
        log.warning("index file: no copy kept in the store (%s)", e)
        return False
    if sent:
        log.info("index file: a copy as of revision %d kept in the store", file.revision)
    return sent


class Sender:
    """Sends copies in the background, one at a time; a file to send while one is on its
    way waits, and of those waiting only the newest (by revision) is sent."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._next: IndexFile | None = None
        self._thread: threading.Thread | None = None

    def send(self, file: IndexFile) -> None:
        with self._lock:
            if self._next is None or file.revision >= self._next.revision:
                self._next = file
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="alu-index-copy", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                file, self._next = self._next, None
                if file is None:
                    self._thread = None
                    return
            send_copy(self.store, file)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the copies on their way; False if still sending after ``timeout``."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True
