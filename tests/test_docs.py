"""The docs site and README.md of the real project, built by `tools/fer_docs.py` and opened in headless Chromium.

The builder is a development tool of the project, not a module of the package: it is run as a script and imported from tools/.

Chromium comes from Debian (`apt-get install -y chromium`); without it the browser checks are skipped, the rest still runs."""
import re, sys, html, shutil, subprocess
from pathlib import Path
import pytest
from fer_nbdev.core import find_fer2013

ROOT = Path(__file__).resolve().parents[1]
FER_DOCS = [sys.executable, str(ROOT/'tools'/'fer_docs.py')]   # the command: `python tools/fer_docs.py`
sys.path.insert(0, str(ROOT/'tools'))
from fer_docs import list_notebooks, page_name, readme_markdown
NBS = ROOT/'nbs'
CHROMIUM = next((p for p in map(shutil.which, ('chromium', 'chromium-browser', 'google-chrome')) if p), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason='chromium not installed (Debian: apt-get install -y chromium)')


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "The real project's site, built once by the console script (README.md left alone: it is checked, not rewritten)."
    out = tmp_path_factory.mktemp('site')/'_docs'
    # --timeout: the report notebook's slow data cells evaluate the shipped model on FER-2013, minutes on a busy 2-core CI machine
    r = subprocess.run([*FER_DOCS, '--out', str(out), '--no_readme', '--timeout', '600'], cwd=ROOT, capture_output=True,
                       text=True, timeout=1500)
    assert r.returncode == 0, f'fer_docs failed:\n{r.stdout}\n{r.stderr}'
    assert str(out/'index.html') in r.stdout
    return out


def _doc_entry(page, name):
    "The text of the API entry (`show_doc` output) for `name`."
    start = page.rindex('<div class="doc-entry">', 0, page.index(f'id="{name}"'))
    depth = 0
    for m in re.finditer(r'<(/?)div\b', page[start:]):
        depth += -1 if m[1] else 1
        if depth == 0: break
    return html.unescape(re.sub(r'<[^>]+>', '', page[start:start + m.end()]))


def _nav_links(page):
    nav = re.search(r'<nav class="sidebar".*?</nav>', page, flags=re.S)
    assert nav, 'no sidebar'
    return re.findall(r'href="([^"]+)"', nav[0])


def test_one_page_per_notebook_with_navigation(site):
    names = [page_name(p.relative_to(NBS)) for p in list_notebooks(NBS)]
    assert 'index.html' in names and 'core.html' in names
    for name in names:
        page = (site/name).read_text()
        prefix = '../' * name.count('/')
        assert _nav_links(page) == [prefix + n for n in names], name   # every page, in notebook order
        assert re.search(r'<h1 class="title">[^<]+</h1>', page), name
        assert not re.search(r'<(?:script|link|img)[^>]+(?:src|href)="(?:https?:)?//', page), f'{name} loads from the network'
    assert (site/'fer_docs.css').stat().st_size > 1000 and (site/'styles.css').exists()
    assert sorted(p.name for p in site.glob('*.html')) == sorted(names)


def test_report_page_shows_the_figures_on_fer2013(site):
    "A plain `fer_docs` executes the figure and report notebooks (settings.ini `docs_exec`) with its data cells where the data is."
    if find_fer2013() is None: pytest.skip('FER-2013 not found: set $FER2013')
    page = (site/'report.html').read_text()
    assert 'id="on-fer-2013"' in page and 'missing-outputs' not in page
    real = page[page.index('id="on-fer-2013"'):]
    n = len(re.findall(r'<img src="data:image/png;base64,', real))
    assert n >= 8 and 'PrivateTest accuracy' in real, f'report.html has {n} figures in "On FER-2013"'
    assert not re.findall(r'<img\b(?![^>]*\bsrc=)[^>]*>', page), 'an <img> without a source (a docstring rendered as HTML?)'


def test_api_reference_rendered(site):
    core = (site/'core.html').read_text()
    assert '<h3 id="atomic_write" class="doc-name">' in core            # show_doc ran: signature, docments, docstring
    entry = _doc_entry(core, 'atomic_write')
    assert "def atomic_write(" in entry and "mode:str='wb', # `'wb'` for bytes" in entry and 'Open a temporary file' in entry
    assert '<a href="#atomic_write" class="api">atomic_write</a>' in core  # in the page's contents
    assert 'href="core.html#fererror"' in core                             # doc links are relative, not to the web site


def _chromium(*args, tmp):
    r = subprocess.run([CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--hide-scrollbars',
                        f'--user-data-dir={tmp}/profile', *args], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


@needs_chromium
@pytest.mark.parametrize('name,title,needle', [('index.html', 'fer_nbdev', 'Core'), ('core.html', 'Core', 'atomic_write')])
def test_pages_open_in_chromium(site, tmp_path, name, title, needle):
    url = (site/name).as_uri()
    dom = _chromium('--dump-dom', url, tmp=tmp_path)
    assert f'<h1 class="title">{title}</h1>' in dom
    assert '<nav class="sidebar"' in dom and 'href="core.html"' in dom
    assert needle in dom
    if name == 'core.html': assert 'def atomic_write(' in _doc_entry(dom, 'atomic_write'), 'no show_doc signature'
    png = tmp_path/'shot.png'
    _chromium('--window-size=1280,900', f'--screenshot={png}', url, tmp=tmp_path)
    from PIL import Image, ImageStat
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and png.stat().st_size > 20_000
    im = Image.open(png).convert('L')
    assert im.size == (1280, 900)
    assert ImageStat.Stat(im).stddev[0] > 20 and len(im.getcolors(1 << 16)) > 50   # text, bars and code: not a blank page


def test_readme_in_sync():
    assert readme_markdown(NBS) == (ROOT/'README.md').read_text(), \
        'README.md is not what index.ipynb gives: run `python tools/fer_docs.py` (or `python tools/fer_docs.py --no_exec` for the README and a quick site)'


def _tiny_project(root):
    "An nbdev project with one notebook whose `#| data` cell shows a picture, and a `#| data` + `#| slow` cell that must not run."
    from execnb.nbio import new_nb, mk_cell, write_nb
    (root/'settings.ini').write_text('[DEFAULT]\nrepo = tiny\nlib_name = tiny\nlib_path = tiny\nnbs_path = nbs\ndoc_path = _docs\n'
                                     'version = 0.0.1\nuser = me\nauthor = me\nbranch = main\ntitle = tiny\ndescription = Tiny\n'
                                     'keywords = x\ntst_flags = slow data\n')
    nbs = root/'nbs'; nbs.mkdir()
    write_nb(new_nb([mk_cell('# Tiny\n> A front page.', 'markdown')]), nbs/'index.ipynb')
    write_nb(new_nb([mk_cell('# Pictures\n> A figure made from data.', 'markdown'), mk_cell('x = 3'),
                     mk_cell("#| data\nfrom PIL import Image\nImage.new('RGB', (4 * x, 8), (0, 114, 178))"),
                     mk_cell('#| data\n#| slow\nraise RuntimeError("a slow data cell ran")')]), nbs/'00_pictures.ipynb')
    return nbs


@pytest.mark.parametrize('args,n_images,note', [((), 0, False), (('--exec_only', 'pictures'), 0, True),
                                                (('--flags', 'data'), 0, False),
                                                (('--exec_only', '00_pictures', '--flags', 'data'), 1, True),
                                                (('--execute', '--flags', 'data'), 1, True)])
def test_flagged_cells_run_only_when_asked(tmp_path, args, n_images, note):
    """A `#| data` cell's picture is in the page only with the notebook executed and the flag given; `slow` cells never run;
    an executed page that left flagged cells out says so on the page and in fer_docs' output."""
    nbs = _tiny_project(tmp_path)
    r = subprocess.run([*FER_DOCS, '--path', str(nbs), '--out', str(tmp_path/'site'), '--no_readme', *args],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    page = (tmp_path/'site'/'pictures.html').read_text()
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == n_images
    assert 'a slow data cell ran' in page                                # shown as code, never run
    assert ('class="callout callout-warning missing-outputs"' in page) == note
    assert ('fer_docs: note: pictures.html: built without the cells flagged' in r.stdout) == note, r.stdout


def test_cli_errors(tmp_path):
    r = subprocess.run([*FER_DOCS, '--path', str(tmp_path/'nope')], capture_output=True, text=True, timeout=120)
    assert (r.returncode, r.stderr) == (2, f'fer_docs: error: {tmp_path}/nope: notebooks folder not found\n')
