"""The package's layers (docs/architecture.md): no module imports a layer below its own."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / 'mmrbvsr'

# a module's layer (its longest matching prefix) -> the layers it may import
ALLOWED = {
    'mmrbvsr': ('mmrbvsr.checkpoint.safe_globals', 'mmrbvsr.version'),
    'mmrbvsr.version': (),
    'mmrbvsr.registry': (),
    'mmrbvsr.ops': ('mmrbvsr.ops', ),
    'mmrbvsr.models.archs': ('mmrbvsr.models.archs', 'mmrbvsr.ops', 'mmrbvsr.registry'),
    'mmrbvsr.models': ('mmrbvsr.models', 'mmrbvsr.ops', 'mmrbvsr.registry'),
    'mmrbvsr.datasets.transforms.functional': ('mmrbvsr.datasets.transforms.functional', ),
    'mmrbvsr.datasets': ('mmrbvsr.datasets', 'mmrbvsr.registry'),
    'mmrbvsr.evaluation': ('mmrbvsr.evaluation', 'mmrbvsr.registry'),
    'mmrbvsr.engine': ('mmrbvsr.engine', 'mmrbvsr.registry'),
    'mmrbvsr.checkpoint': ('mmrbvsr.checkpoint', 'mmrbvsr.models.archs'),
    'mmrbvsr.utils': ('mmrbvsr.utils', 'mmrbvsr.engine'),
    'mmrbvsr.apis': ('mmrbvsr.apis', 'mmrbvsr.deploy', 'mmrbvsr.checkpoint', 'mmrbvsr.utils',
                     'mmrbvsr.models.builder', 'mmrbvsr.registry'),
    'mmrbvsr.deploy': ('mmrbvsr.deploy', 'mmrbvsr.checkpoint', 'mmrbvsr.utils',
                       'mmrbvsr.models', 'mmrbvsr.ops', 'mmrbvsr.version'),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def layer_of(name: str) -> str:
    return max((prefix for prefix in ALLOWED if name == prefix or name.startswith(prefix + '.')),
               key=len)


def imported_modules(name: str, is_package: bool, source: str):
    """The mmrbvsr modules that module ``name`` imports, relative imports resolved."""
    package = name if is_package else name.rsplit('.', 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split('.')[0] == 'mmrbvsr')
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - node.level + 1]
                target = '.'.join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split('.')[0] == 'mmrbvsr':
                target = node.module
            else:
                continue
            # `from . import x` names submodules
            yield from ((f'{target}.{a.name}' if node.module is None else target)
                        for a in node.names)


def violations(name: str, is_package: bool, source: str):
    allowed = ALLOWED[layer_of(name)]
    return [t for t in imported_modules(name, is_package, source)
            if not any(t == a or t.startswith(a + '.') for a in allowed)]


MODULES = sorted(PACKAGE.rglob('*.py'))


def test_every_module_has_a_layer():
    for path in MODULES:
        assert layer_of(module_name(path)), path


@pytest.mark.parametrize('path', MODULES, ids=lambda p: module_name(p))
def test_no_import_runs_down_the_layers(path):
    assert violations(module_name(path), path.name == '__init__.py', path.read_text()) == []


@pytest.mark.parametrize('source', ['from mmrbvsr.models.archs import BasicVSRNet',
                                    'from ..models import archs', 'import mmrbvsr.apis',
                                    'from .. import datasets'])
def test_the_check_reports_imports_from_lower_layers(source):
    assert violations('mmrbvsr.ops.conv', False, source)
    assert not violations('mmrbvsr.ops.conv', False, 'from . import switches\nimport torch')
