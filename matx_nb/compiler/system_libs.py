"""The system libraries generated code may use (OpenCV for the vision ops,
PCRE2 for `re`), and the error that names a missing one with the commands
that install it: g++'s "No such file" and "cannot find -l" lines are read
back to the library and its development package."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional

@dataclass(frozen=True)
class SystemLibrary:
    """A system library generated code may use, and its development package."""
    name: str
    used_for: str
    debian: str
    fedora: str
    conda: str
    headers: tuple  # header paths, or prefixes ending in '/', as #include-d
    libs: tuple = ()  # -l flags

    def install_commands(self) -> List[str]:
        return [f"Debian/Ubuntu: sudo apt-get install {self.debian}",
                f"Fedora:        sudo dnf install {self.fedora}",
                f"conda:         conda install -c conda-forge {self.conda}"]


# Keep in step with scripts/install_system_deps.sh (which installs them) and README.md.
SYSTEM_LIBRARIES = [
    SystemLibrary("PCRE2", "re and matx_nb.Regex", "libpcre2-dev", "pcre2-devel", "pcre2",
                  ("pcre2.h",), ("-lpcre2-32", "-lpcre2-8")),
    SystemLibrary("OpenCV", "the vision ops (matx_nb.vision)",
                  "libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev libjpeg-dev",
                  "opencv-devel libjpeg-turbo-devel", "libopencv libjpeg-turbo", ("opencv2/", "jpeglib.h"),
                  ("-lopencv_core", "-lopencv_imgproc", "-lopencv_imgcodecs")),
]

_MISSING_HEADER = re.compile(r"fatal error: ([^\s:]+): No such file or directory")
_MISSING_LIB = re.compile(r"cannot find (-l[^\s:]+)")


def library_for(header: str = "", lib: str = "") -> Optional[SystemLibrary]:
    for entry in SYSTEM_LIBRARIES:
        if header and any(header == h or (h.endswith("/") and header.startswith(h)) for h in entry.headers):
            return entry
        if lib and lib in entry.libs:
            return entry
    return None


class MissingSystemLibrary(RuntimeError):
    """g++ failed because this machine lacks a system header or library."""

    def __init__(self, missing: str, library: Optional[SystemLibrary], log: str = ""):
        self.missing, self.library, self.log = missing, library, log
        what = "header" if not missing.startswith("-l") else "library"
        if library is not None:
            lines = [f"the C++ compiler cannot find the {what} {missing}: the system library "
                     f"{library.name} (used by {library.used_for}) is not installed. Install it with one of:",
                     *("  " + c for c in library.install_commands())]
        else:
            lines = [f"the C++ compiler cannot find the {what} {missing}: a system library's "
                     "development package is not installed. Find the package that provides it with:",
                     f"  Debian/Ubuntu: apt-file search {missing}",
                     f"  Fedora:        dnf provides '*/{missing}'"]
        lines.append("(scripts/install_system_deps.sh in the matx_nb checkout installs what matx_nb uses)")
        super().__init__("\n".join(lines))

    @classmethod
    def from_log(cls, log: str) -> Optional["MissingSystemLibrary"]:
        """The first missing system header or library g++ reports, or None (also for
        the runtime's own headers: their absence is a broken install, not the system's)."""
        m = _MISSING_HEADER.search(log)
        if m and not m.group(1).startswith("matx_nb/"):
            return cls(m.group(1), library_for(header=m.group(1)), log)
        m = _MISSING_LIB.search(log)
        if m:
            return cls(m.group(1), library_for(lib=m.group(1)), log)
        return None
