"""The one exception qemlc raises for bad input, bad bundles and runtime errors."""
from __future__ import annotations

from typing import Optional


class QemlcError(Exception):
    """A runtime or input error, with the runtime's message.

    `status` is the C API's status name (`"ERROR_NONFINITE"`, `"ERROR_IO"`, …) when the runtime
    reported it, else None.
    """

    def __init__(self, message: str, status: Optional[str] = None):
        super().__init__(message)
        self.status = status
