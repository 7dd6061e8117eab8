"The figure notebooks, run top to bottom in a fresh Jupyter kernel as a user runs them, show their figures as images."
import re
from pathlib import Path
import pytest
from fer_nbdev.core import find_fer2013

nbformat = pytest.importorskip('nbformat')
nbclient = pytest.importorskip('nbclient')
NBS = Path(__file__).parents[1]/'nbs'

def _runnable(cell) -> bool:
    "What a user runs: every cell but the ones nbdev never executes (`#| eval: false`, the export cell)."
    return not (re.search(r'^#\|\s*eval:\s*false', cell.source, re.M) or 'nbdev_export()' in cell.source)

# notebook, the fewest figures it must show as images, whether it needs FER-2013 (its `#| data` cells run here too)
@pytest.mark.parametrize('name,min_png,needs_data', [('14_plots', 4, False), ('15_face_plots', 8, False), ('16_report', 8, True)])
def test_notebook_shows_figures_in_a_fresh_kernel(monkeypatch, name, min_png, needs_data):
    if needs_data and find_fer2013() is None: pytest.skip('FER-2013 not found: set $FER2013')
    monkeypatch.delenv('MPLBACKEND', raising=False)   # a user's kernel: whatever backend Jupyter gives it
    nb = nbformat.read(NBS/f'{name}.ipynb', as_version=4)
    nb.cells = [c for c in nb.cells if c.cell_type != 'code' or _runnable(c)]
    nbclient.NotebookClient(nb, timeout=900, kernel_name='python3', resources={'metadata': {'path': str(NBS)}}).execute()
    outs = [o for c in nb.cells if c.cell_type == 'code' for o in c.outputs if o.output_type in ('execute_result', 'display_data')]
    as_text = [o for o in outs if 'Figure size' in o.data.get('text/plain', '') and 'image/png' not in o.data]
    assert not as_text, f'{len(as_text)} figures printed as text, e.g. {as_text[0].data["text/plain"]}'
    n_png = sum('image/png' in o.data for o in outs)
    assert n_png >= min_png, f'{name}: only {n_png} figures shown as images'
