"""Where targets are kept: the ``Store`` contract and ``open_store`` (``base``), the SQLite
file (``sqlite``, one machine) and PostgreSQL (``postgres``, several replicas; needs the
postgres extra). A new store is one module here registering its URL schemes
(``register_store``)."""

from .base import Store, Watch, check_db_setting, is_database_url, open_store, register_store
from .sqlite import TargetStore

__all__ = [
    "Store",
    "TargetStore",
    "Watch",
    "check_db_setting",
    "is_database_url",
    "open_store",
    "register_store",
]
