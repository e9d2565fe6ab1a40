"""The optional native FIT walk/CRC extension (drivers/fit/_walkc.c); everything else is in
pyproject.toml.

It lives here, not under ``[tool.setuptools.ext-modules]``, because setuptools flags that table
as experimental with a BuildBackendWarning on every build (tests/test_install.py). ``optional``:
without a C compiler the install still succeeds and the pure-Python path is used.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("drivers.fit._walkc", sources=["drivers/fit/_walkc.c"], optional=True),
    ]
)
