"""matx_nb.Device: MATXScript's device handle, here the device's name.

A Device is a `str` ("cpu", "cuda:0"), so it passes into compiled code where
ops declare `device: Any` or `str`, and compiled code's matx_nb.Device(name)
gives the same string (mod/ndarray.h device_new checks it the same way).
"gpu:N" is MATXScript's spelling of "cuda:N"; both are kept as written.
"""
import re

_NAME = re.compile(r"(cpu|cuda|gpu)(:\d{1,6})?")


class Device(str):
    def __new__(cls, name: str = "cpu"):
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(f"Device: {name!r} is not a device: 'cpu', 'cuda:N' or 'gpu:N'")
        return super().__new__(cls, name)

    def __call__(self) -> str:
        """MATXScript ops call device() for the device's name."""
        return str(self)

    def __repr__(self) -> str:
        return f"Device({str(self)!r})"
