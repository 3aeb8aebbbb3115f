"""The package's imports point one way: down the layers below, never in a cycle.

Every ``import`` of the package is read from the source (module level and inside
functions alike). A module may import modules of lower layers, and modules of its
own layer where that layer allows it; never a higher layer. A function-local import
of the package is allowed only to defer NNI, Lightning, torch, matplotlib or pandas
(which take seconds to import) from a module that does not already load them: the
CLI answers ``--help`` and one-line config errors without them.

README.md ("Layout") draws the same table.
"""
import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / 'rmnas_nni'

# layer: (modules, whether modules of that layer may import each other)
LAYERS = [
    ('foundation', ['errors', 'version', 'registry', 'config'], True),
    ('records', ['metrics', 'losses', 'rundir', 'nni_compat', 'nni_report', 'ablations', 'run_plots'], True),
    ('data', ['data'], True),
    ('model', ['lst', 'token_mixers', 'rmnas_block', 'derivation', 'encoder', 'fusion_cells', 'space',
               'baselines', 'weight_transfer'], True),
    ('search and training', ['search_strategy', 'single_path', 'trainer', 'figures'], True),
    ('pipeline', ['pipeline'], False),
    ('drivers', ['sweep', 'multitrial'], False),
    ('experiments', ['sweep_nni'], False),
    ('entry points', ['cli', 'nni_trial', '__init__'], False),
]
HEAVY = {'torch', 'nni', 'pytorch_lightning', 'lightning', 'matplotlib', 'pandas'}
LAYER_OF = {m: i for i, (_, mods, _) in enumerate(LAYERS) for m in mods}
SAME_LAYER_OK = {i: ok for i, (_, _, ok) in enumerate(LAYERS)}


def unit(path: Path) -> str:
    """The layer table's name of a module file: ``data`` for the data package."""
    rel = path.relative_to(PACKAGE).with_suffix('')
    return rel.parts[0] if len(rel.parts) > 1 else rel.name


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix('')
    parts = list(rel.parts)
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def resolve(node: ast.ImportFrom, path: Path) -> list:
    """The package modules an ``import`` names (absolute), or [] for other libraries."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split('.')[0] == 'rmnas_nni']
    if node.level == 0:
        base = node.module or ''
        if base.split('.')[0] != 'rmnas_nni':
            return []
    else:
        pkg = module_name(path).split('.')
        if path.name != '__init__.py':
            pkg = pkg[:-1]
        pkg = pkg[:len(pkg) - (node.level - 1)]
        base = '.'.join(pkg + ([node.module] if node.module else []))
    out = []
    for alias in node.names:
        candidate = f'{base}.{alias.name}'
        if (ROOT / Path(*candidate.split('.'))).with_suffix('.py').is_file() or \
                (ROOT / Path(*candidate.split('.')) / '__init__.py').is_file():
            out.append(candidate)
        else:
            out.append(base)
    return out


def unit_of_module(name: str) -> str:
    parts = name.split('.')
    return '__init__' if len(parts) == 1 else parts[1]


def imports_of(path: Path):
    """``(target unit, line, inside a function, heavy libraries imported at module level)``."""
    tree = ast.parse(path.read_text(), str(path))
    out, heavy = [], set()

    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in child.names] if isinstance(child, ast.Import) else [child.module or '']
                if not in_function and child.__class__ is ast.Import or (
                        not in_function and isinstance(child, ast.ImportFrom) and child.level == 0):
                    heavy.update(n.split('.')[0] for n in names if n.split('.')[0] in HEAVY)
                for target in dict.fromkeys(resolve(child, path)):
                    out.append((target, child.lineno, in_function))
            walk(child, inside)
    walk(tree, False)
    return out, heavy


def package_files():
    return sorted(p for p in PACKAGE.rglob('*.py') if '__pycache__' not in p.parts)


def graph():
    edges, heavy = {}, {}
    for path in package_files():
        imports, libs = imports_of(path)
        edges[path] = imports
        heavy[module_name(path)] = libs
    return edges, heavy


def loads_heavy(module: str, heavy, edges_by_module, seen=None) -> bool:
    """Whether importing ``module`` loads a heavy library (through module-level imports)."""
    seen = seen if seen is not None else set()
    if module in seen:
        return False
    seen.add(module)
    if heavy.get(module):
        return True
    return any(loads_heavy(t, heavy, edges_by_module, seen) for t, _, local in edges_by_module.get(module, [])
               if not local)


def test_every_module_has_a_layer():
    missing = sorted({unit(p) for p in package_files()} - set(LAYER_OF))
    assert not missing, f'modules without a layer in tests/test_layers.py and README "Layout": {missing}'


def test_imports_point_down_and_deferred_imports_defer_something():
    edges, heavy = graph()
    by_module = {module_name(p): v for p, v in edges.items()}
    problems = []
    for path, imports in edges.items():
        src = unit(path)
        for target, line, local in imports:
            dst = unit_of_module(target)
            if dst == src:
                continue
            where = f'{path.relative_to(ROOT)}:{line}: imports {target}'
            ls, ld = LAYER_OF[src], LAYER_OF[dst]
            if ld > ls:
                problems.append(f'{where}: upward ({LAYERS[ls][0]} -> {LAYERS[ld][0]})')
            elif ld == ls and not SAME_LAYER_OK[ls]:
                problems.append(f'{where}: {LAYERS[ls][0]} do not import each other')
            if local and (heavy[module_name(path)] or not loads_heavy(target, heavy, by_module)):
                problems.append(f'{where}: inside a function, but defers no heavy library '
                                f'(import it at the top of the module)')
    assert not problems, '\n'.join(problems)


def test_no_import_cycles():
    edges, _ = graph()
    adj = {}
    for path, imports in edges.items():
        adj.setdefault(module_name(path), set()).update(t for t, _, _ in imports if t != module_name(path))
    # a package's modules import its __init__ implicitly; only explicit imports count
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = 'open'
        stack.append(node)
        for nxt in sorted(adj.get(node, ())):
            if state.get(nxt) == 'open':
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 'done'

    sys.setrecursionlimit(10000)
    for node in sorted(adj):
        if node not in state:
            visit(node, [])
    assert not cycles, '\n'.join(' -> '.join(c) for c in cycles)


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """The test can fail: a config module that imports the pipeline is reported."""
    fake_pkg = tmp_path / 'rmnas_nni'
    fake_pkg.mkdir()
    (fake_pkg / '__init__.py').write_text('')
    (fake_pkg / 'config.py').write_text('def f():\n    from .pipeline import run\n')
    (fake_pkg / 'pipeline.py').write_text('import torch\nfrom .config import f\n')
    monkeypatch.setattr(sys.modules[__name__], 'ROOT', tmp_path)
    monkeypatch.setattr(sys.modules[__name__], 'PACKAGE', fake_pkg)
    with pytest.raises(AssertionError, match='upward'):
        test_imports_point_down_and_deferred_imports_defer_something()
    with pytest.raises(AssertionError, match='rmnas_nni.config -> rmnas_nni.pipeline -> rmnas_nni.config'):
        test_no_import_cycles()
