"""The Python interpreter the playbooks' modules run under: the test writes
this file with a `#!` line naming the test venv's Python and passes it as
`ansible_python_interpreter`. It imports `openstack.version`, then runs the
module.

openstack.cloud 2.5.0 reads `openstack.version.__version__` right after
`importlib.import_module('openstack')`; openstacksdk 4.x no longer imports its
`version` submodule from `openstack/__init__.py`, so the attribute is missing
and every module fails with AttributeError. Importing it here, before the
module runs, leaves both the collection and the venv untouched.

Called as `python MODULE.py [ARGS]` (a module file) or as `python` with the
module on stdin (pipelining)."""

import runpy
import sys

import openstack.version  # noqa: F401  (the fix: see above)

if len(sys.argv) > 1:
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
else:
    sys.argv = ["<stdin>"]
    code = compile(sys.stdin.read(), "<stdin>", "exec")
    exec(code, {"__name__": "__main__", "__builtins__": __builtins__})
