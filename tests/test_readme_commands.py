"""The README's first command, run as written (after its `pip install`, which CI has just done): it must keep working.

It runs `fer_predict` with the shipped default model on a photo read from an installed package, in a fresh folder."""
import json, re, subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _block(marker):
    "The command in the ```sh block that follows `<!-- marker -->` in README.md."
    m = re.search(rf'<!-- {marker} -->\s*```sh\n(.*?)\n```', (ROOT/'README.md').read_text(), flags=re.S)
    assert m, f'README.md has no {marker} block'
    return m[1].strip()


def test_main_command_runs_the_shipped_model(tmp_path):
    cmd = _block('main-command')
    install, _, rest = cmd.partition(' && ')
    assert install == 'pip install -e .', cmd                      # set up, then the job itself
    assert rest.startswith('fer_predict') and '--checkpoint' not in rest, rest   # on the shipped default
    r = subprocess.run(['bash', '-c', rest], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = tmp_path/re.search(r'--out (\S+)', rest)[1]
    res = json.loads((out/'faces.json').read_text())
    faces = [f for img in res['images'] for f in img['faces']]
    assert len(faces) == 1 and faces[0]['label'] in res['classes'], res
    assert len(list(out.glob('*.jpg')) + list(out.glob('*.png'))) >= 1


def test_ci_runs_the_readme_test_command():
    assert _block('test-command').startswith('pip install -c constraints.txt -e ".[dev]"')   # the tested pins
    assert '<!-- test-command -->' in (ROOT/'.ci'/'run').read_text()    # .ci/run reads the command from README.md


# The README's main command installs the base package only (`pip install -e .`, no extra): what it brings must be enough
# for every module but `serve`, and must not bring the notebook, docs or web-service stacks.
import ast, sys, configparser
from importlib import metadata
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

OPTIONAL = {'facenet_pytorch'}   # detect's optional MTCNN detector: imported on demand, with a one-line "pip install" error


def _settings():
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini', encoding='utf-8')
    return cfg['DEFAULT']


def _closure(reqs):
    "Distributions `reqs` bring, transitively (from the installed packages' metadata; extras and other platforms left out)."
    seen, todo = set(), [Requirement(r) for r in reqs]
    while todo:
        r = todo.pop()
        name = canonicalize_name(r.name)
        if name in seen: continue
        seen.add(name)
        try: deps = metadata.requires(r.name) or []
        except metadata.PackageNotFoundError: continue
        for d in map(Requirement, deps):
            if d.marker is None or d.marker.evaluate({'extra': ''}): todo.append(d)
    return seen


def _imports(path):
    "Top-level names of the packages a module imports, anywhere in it (lazy imports too), standard library left out."
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import): names |= {a.name.split('.')[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level: names.add(node.module.split('.')[0])
    return names - set(sys.stdlib_module_names) - {'fer_nbdev', '__future__'}


def test_base_install_runs_every_module_but_serve():
    base = _closure(_settings()['requirements'].split())
    assert not base & {'jupyter', 'notebook', 'jupyterlab', 'nbdev', 'execnb', 'nbconvert', 'fastapi', 'uvicorn', 'starlette'}, \
        sorted(base & {'jupyter', 'notebook', 'nbdev', 'execnb', 'nbconvert', 'fastapi', 'uvicorn', 'starlette'})
    dists = metadata.packages_distributions()
    for mod in sorted((ROOT/'fer_nbdev').glob('*.py')):
        if mod.stem in ('serve', '_modidx'): continue
        for name in _imports(mod) - OPTIONAL:
            got = {canonicalize_name(d) for d in dists.get(name, [])}
            assert got & base, f'{mod.name} imports {name} ({", ".join(sorted(got)) or "not installed"}), not in the base install'
    assert not (ROOT/'fer_nbdev'/'docs.py').exists()   # the docs builder is a tool of the project (tools/), not of the package


def test_serve_extra_has_the_web_stack():
    serve = _closure(_settings()['serve_requirements'].split())
    dists = metadata.packages_distributions()
    for name in _imports(ROOT/'fer_nbdev'/'serve.py'):
        got = {canonicalize_name(d) for d in dists.get(name, [])}
        assert got & (serve | _closure(_settings()['requirements'].split())), f'serve.py imports {name}, in neither base nor [serve]'
