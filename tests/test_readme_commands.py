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
