#!/usr/bin/env python
"""fer_docs: the HTML documentation site and README.md of an nbdev project, built from its notebooks with nbdev's own
processing and nbconvert, without Quarto.

A development tool, not part of the fer_nbdev package (`pip install fer_nbdev` does not install it): it needs the `docs`
extra (`pip install -e ".[docs]"`) and is explained and tested in `nbs/90_docs.ipynb`. From the project's root:

    python tools/fer_docs.py            # the site in _docs/ and README.md
    python tools/fer_docs.py --help     # every option
"""
from __future__ import annotations
import os, re, ast, sys, json, html, time, base64, shutil, tempfile, warnings, contextlib
from pathlib import Path
from fastcore.script import call_parse
from importlib.util import find_spec
from fer_nbdev.core import FerError, cli_errors, atomic_write, find_fer2013
try: from nbdev.process import Processor  # nbdev, execnb and nbconvert come with the `docs` extra, not the runtime
except ImportError: Processor = object    # `build_docs` then says what to install, in one line

__all__ = ['DocsError', 'DocsWarning', 'page_name', 'list_notebooks', 'doc_procs', 'process_notebook', 'md2html', 'highlight',
           'render_output', 'render_cell', 'render_page', 'select_notebooks', 'build_docs', 'readme_markdown',
           'build_readme', 'serve_docs', 'fer_docs']

class DocsError(FerError):
    "A missing notebooks folder or project, or a notebook that cannot be read or processed into docs."

class DocsWarning(UserWarning):
    "A page built without some of its outputs (flagged cells left out), which `fer_docs` reports."

def page_name(nb_path) -> str:
    "The HTML page nbdev makes of notebook `nb_path` (relative to the notebooks folder): `00_core.ipynb` -> `core.html`."
    p = Path(nb_path)
    return p.with_name(re.sub(r'^\d+[a-zA-Z0-9]*_', '', p.name.lower())).with_suffix('.html').as_posix()

def list_notebooks(nbs_path, # the notebooks folder
                   recursive:bool=True, # also look in subfolders (nbdev's `recursive` setting)
                  ) -> list[Path]:
    "The notebooks nbdev documents, in reading order: `index.ipynb` first, then by path; `_`/`.` names skipped."
    nbs_path = Path(nbs_path)
    found = nbs_path.rglob('*.ipynb') if recursive else nbs_path.glob('*.ipynb')
    found = [p for p in found if not any(o[0] in '_.' for o in p.relative_to(nbs_path).parts)]
    return sorted(found, key=lambda p: (p.relative_to(nbs_path).parent.as_posix(), p.stem != 'index', p.name))

@contextlib.contextmanager
def _in_folder(path, **env):
    "Run the body with cwd = `path`, extra environment `env`, and nbdev's cached settings refreshed on entry and exit."
    from nbdev.config import get_config
    old_cwd, old_env = os.getcwd(), {k: os.environ.get(k) for k in env}
    os.chdir(path); os.environ.update(env); get_config.cache_clear()
    try: yield get_config()
    finally:
        os.chdir(old_cwd); get_config.cache_clear()
        for k, v in old_env.items():
            if v is None: os.environ.pop(k, None)
            else: os.environ[k] = v

def _project(nbs_path=None):
    "nbdev settings and notebooks folder of the project holding `nbs_path` (default: the project of the current folder)."
    if nbs_path is not None and not Path(nbs_path).is_dir(): raise DocsError(f"{nbs_path}: notebooks folder not found")
    with _in_folder(Path(nbs_path or '.').resolve()) as cfg:
        if not cfg.config_file.exists():
            raise DocsError(f"no settings.ini in {Path.cwd()} or above: run this in an nbdev project or give its notebooks folder")
        nbs = Path(nbs_path).resolve() if nbs_path is not None else cfg.nbs_path
    if not nbs.is_dir(): raise DocsError(f"{nbs}: notebooks folder not found (nbs_path in {cfg.config_file})")
    return cfg, nbs

class _order_show_docs(Processor):
    "Put the `show_doc` cells nbdev adds after an exported cell in source order (nbdev inserts them reversed)."
    def begin(self):
        res, run = [], []
        for c in self.nb.cells:
            if c.get('has_sd'): run.append(c)
            else: res += run[::-1] + [c]; run = []
        self.nb.cells = res + run[::-1]

class _exec_docs(Processor):
    "nbdev's `exec_show_docs`, but flagged cells run only when all their flags are given, and cells mixing imports with other code run only their imports."
    execute_all, timeout, run_flags, mpl_format = False, None, frozenset(), 'png'
    def begin(self):
        import threading
        from nbdev.config import get_config
        from nbdev.processors import exec_show_docs
        self.flags = set(get_config().get('tst_flags', '').split())
        self.inner = exec_show_docs(self.nb); self.inner.begin()
        self.k = getattr(self.inner, 'k', None)
        if self.k is not None and self.timeout and threading.current_thread() is threading.main_thread():
            self.k.timeout = int(self.timeout)  # execnb's per-cell alarm (main thread only)
        if self.k is not None and self.execute_all:  # figures at their own size, not doubled ('retina'): pages stay light
            self.k.run(f"set_matplotlib_formats({self.mpl_format!r})")
        skip = str(getattr(self.nb, 'frontmatter_', {}).get('skip_showdoc', False)).lower() == 'true'
        self.active = self.execute_all or (bool(self.nb.get('has_docs_')) and not skip)

    def _run(self, cell, code=None):
        "Run `cell` (or just `code`) in the notebook's shell; a failure names the cell."
        if code is None: self.k.cell(cell)
        else: self.k.run(code)
        if self.k.exc: raise Exception(f"Error in cell {cell.idx_}:\n{cell.source}") from self.k.exc

    def _imports_only(self, cell):
        "The top-level imports of a cell nbdev would run only because it imports something, else None."
        from nbdev.processors import _do_eval
        if cell.get('directives_', {}).keys() & {'export', 'exports', 'exporti', 'exec_doc'} or _sd_name(cell): return None
        if not _do_eval(cell): return None
        try: body = ast.parse(_cell_opts(cell.source)[1]).body
        except SyntaxError: return None
        imps = [o for o in body if isinstance(o, (ast.Import, ast.ImportFrom))]
        return None if len(imps) == len(body) else '\n'.join(ast.unparse(o) for o in imps)

    def __call__(self, cell):
        if not self.active or self.k is None or cell.cell_type != 'code' or not cell.source: return
        d = cell.get('directives_') or {}
        if missing := (d.keys() & self.flags) - self.run_flags:  # noted, so that the page can say what it lacks
            if self.execute_all: self.nb['skipped_flags_'] = sorted(set(self.nb.get('skipped_flags_', [])) | missing)
            return
        if 'nbdev_export' + '()' in cell.source: return
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message='Found cells containing imports')
            try:
                if self.execute_all:
                    if d.get('eval:', [''])[0].lower() != 'false': self._run(cell)
                elif (imps := self._imports_only(cell)) is not None:
                    if imps: self._run(cell, imps)
                else: self.inner(cell)
            except Exception as e:  # keep what the cell said last on stderr: often the only clue (e.g. after a SystemExit)
                err = ''.join(_txt(o.get('text')) for o in cell.get('outputs', []) if o.get('name') == 'stderr').strip()
                e.cell_stderr = err.splitlines()[-1] if err else ''
                raise

    def end(self):
        self.inner.end()
        if self.k is None: return
        # The shell is done: stop IPython's history thread and drop its exit hook now (each costs time at process exit)
        t = getattr(self.k.history_manager, 'save_thread', None)
        if t is not None: t.stop()
        import atexit; atexit.unregister(self.k.atexit_operations)

_re_opt = re.compile(r'^\s*#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')

def _cell_opts(src):
    "Split the Quarto `#| key: value` lines at the top of a code cell from its code."
    opts, lines = {}, (src or '').splitlines()
    while lines and (m := _re_opt.match(lines[0])): opts[m[1]] = m[2].strip('"\''); lines.pop(0)
    return opts, '\n'.join(lines).strip('\n')

def _off(v): return str(v).lower() in ('false', 'no', '0')
def _txt(v): return ''.join(v) if isinstance(v, list) else (v or '')

def _only_imports(src):
    try: body = ast.parse(_cell_opts(src)[1]).body
    except SyntaxError: return False
    return all(isinstance(o, (ast.Import, ast.ImportFrom)) for o in body)

def _fold_exports(cell):
    "Drop `hide`/`default_exp` cells and exported imports; fold other exported source under 'Exported source' (nbdev drops it)."
    d = cell.get('directives_') or {}
    exported = bool(d.keys() & {'export', 'exporti'})
    if d.keys() & {'hide', 'default_exp'} or exported and _only_imports(cell.source): del cell['source']
    elif exported:
        cell.source = '#| code-fold: true\n#| code-summary: "Exported source"\n' + cell.source
        cell.folded_export = True

def _sd_name(cell):
    "The name a `show_doc` cell documents, or None for other cells."
    m = cell.get('cell_type') == 'code' and re.match(r'show_doc\(\s*([\w.]+)', _cell_opts(cell.get('source'))[1])
    return m[1] if m else None

class _mv_folded(Processor):
    "Put each folded exported cell after the `show_doc` cells right below it, those in the order the cell defines the names."
    def begin(self):
        cells, i = self.nb.cells, 0
        while i < len(cells):
            j = i + 1
            if cells[i].get('folded_export'):
                while j < len(cells) and _sd_name(cells[j]): j += 1
                try: defs = [o.name for o in ast.parse(_cell_opts(cells[i].source)[1]).body if hasattr(o, 'name')]
                except SyntaxError: defs = []
                rank = {nm: k for k, nm in enumerate(defs)}
                cells[i:j] = sorted(cells[i+1:j], key=lambda c: rank.get(_sd_name(c).split('.')[-1], len(defs))) + [cells[i]]
            i = j

def _flagset(flags):
    "A set of flag names from 'slow data', 'slow,data' or a list."
    if not flags: return frozenset()
    return frozenset(flags.replace(',', ' ').split() if isinstance(flags, str) else flags)

def doc_procs(execute:bool=False, # run every code cell (unflagged, or flagged with `flags` only), not only what `show_doc` needs
              timeout:int=None, # seconds one cell may run before the build fails
              flags=None, # tst_flags whose cells may run too, e.g. 'data' (space-separated, or a list)
             ) -> list:
    "nbdev's docs processors (`FilterDefaults`), with exported source folded instead of dropped and flagged cells run only when asked."
    from nbdev.processors import FilterDefaults
    ex = type('_exec_docs', (_exec_docs,), dict(execute_all=execute, timeout=timeout, run_flags=_flagset(flags)))
    subs = dict(exec_show_docs=ex, rm_export=_fold_exports)
    res = []
    for p in FilterDefaults().procs():
        nm = getattr(p, '__name__', '')
        res.append(subs.get(nm, p))
        if nm == 'add_show_docs': res.append(_order_show_docs)
        if nm == 'mv_exports': res.append(_mv_folded)
    return res

def _one_line(e): return (str(e).strip().splitlines() or [''])[0]

def process_notebook(path, # the notebook
                     execute:bool=False, # run every code cell (unflagged, or flagged with `flags` only), not only what `show_doc` needs
                     timeout:int=120, # seconds one cell may run before the build fails
                     flags=None, # tst_flags whose cells may run too, e.g. 'data'
                    ) -> dict:
    "Run nbdev's docs processing on notebook `path` from its own folder; returns the processed notebook."
    from execnb.nbio import read_nb
    from nbdev.process import NBProcessor
    path = Path(path).resolve()
    with _in_folder(path.parent, IN_TEST='1'):
        try: nb = read_nb(path); nb.cells
        except Exception as e:
            raise DocsError(f"{path}: not a readable notebook ({type(e).__name__}: {_one_line(e)})") from None
        try: NBProcessor(nb=nb, procs=doc_procs(execute, timeout, flags)).process()
        except Exception as e:
            cause = e.__cause__ or e
            src = _cell_opts(str(e).partition(':\n')[2])[1].strip().splitlines()
            where = f" (the cell starting {src[0]!r})" if src and e.__cause__ else ''
            why = (f"ran for more than {timeout}s (cells run for the docs must be quick; flag slow ones)"
                   if isinstance(cause, TimeoutError) else f"{type(cause).__name__}: {_one_line(cause)}")
            if getattr(e, 'cell_stderr', ''): why += f"; its last words on stderr: {e.cell_stderr}"
            raise DocsError(f"{path}: a cell fails while building the docs{where}: {why}") from None
    return json.loads(json.dumps(nb, default=str))

def _prep_md(md):
    "Quarto/pandoc markdown -> plain markdown: `:::` divs to HTML `div`s, `{...}` attributes after links dropped."
    out, fence = [], None
    for l in md.splitlines():
        m = re.match(r'^\s*(```+|~~~+)', l)
        if m and (fence is None or m[1][0] == fence[0] and len(m[1]) >= len(fence)): fence = None if fence else m[1]
        if fence is None and not m:
            if d := re.match(r'^\s*:::+\s*(.*?)\s*$', l):
                spec = re.sub(r'"[^"]*"', '', d[1])
                cls = re.findall(r'\.([A-Za-z][\w-]*)', spec) if spec.startswith('{') else spec.split()[:1]
                cls += ['callout'] if any(c.startswith('callout') for c in cls) else []
                l = f'\n<div class="{html.escape(" ".join(cls))}">\n' if d[1] else '\n</div>\n'
            else: l = re.sub(r'(\]\([^)\s]*(?:\s+"[^"]*")?\))\{[^}\n]*\}', r'\1', l)
        out.append(l)
    return '\n'.join(out)

def md2html(md:str) -> str:
    "Render notebook markdown (with Quarto's `:::` blocks) to HTML with nbconvert's renderer."
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    return markdown2html_mistune(_prep_md(md))

def highlight(code:str, lang:str='python') -> str:
    "Syntax-highlight `code` with Pygments (`ipython3` lexer for Python, so `!cmd` and `%magic` lines work)."
    from pygments import highlight as _hl
    from pygments.lexers import get_lexer_by_name
    from pygments.formatters import HtmlFormatter
    lexer = None
    for nm in (['ipython3', 'python'] if lang in (None, '', 'python') else [lang, 'text']):
        try: lexer = get_lexer_by_name(nm); break
        except Exception: pass
    return _hl(code, lexer, HtmlFormatter(cssclass='highlight'))

_MIMES = ('text/html', 'text/markdown', 'image/svg+xml', 'image/png', 'image/jpeg', 'image/gif', 'text/latex', 'text/plain')

def _pre(text, cls): 
    from nbconvert.filters.ansi import ansi2html
    return f'<div class="cell-output {cls}"><pre><code>{ansi2html(text.rstrip(chr(10)))}</code></pre></div>'

def _showdoc_html(md):
    "One `show_doc` markdown output as an API-reference entry."
    md = re.sub(r'^\s*---\s*\n', '', md)
    # nbdev's `add_links` links names line by line, inside the signature's code block too: unlink them there
    md = re.sub(r'```.*?```', lambda m: re.sub(r'\[(`[^`\n]+`)\]\([^)\s]+\)', r'\1', m[0]), md, flags=re.S)
    link = ''
    if m := re.search(r'^\[source\]\(([^)\s]+)\)(\{[^}\n]*\})?\s*$', md, flags=re.M):
        link = f'<a class="source-link" href="{html.escape(m[1])}" target="_blank" rel="noopener">source</a>'
        md = md[:m.start()] + md[m.end():]
    body = re.sub(r'<h([1-6])(?=[\s>])', r'<h\1 class="doc-name"', md2html(md), count=1)
    return f'<div class="doc-entry">{link}{body}</div>'

def render_output(o:dict, # one nbformat output
                  showdoc:bool=False, # it is a `show_doc` result: render it as an API-reference entry
                 ) -> str:
    "HTML for one code-cell output."
    t = o.get('output_type')
    if t == 'stream': return _pre(_txt(o.get('text')), f"cell-output-{o.get('name', 'stdout')}")
    if t == 'error': return _pre('\n'.join(o.get('traceback') or [f"{o.get('ename')}: {o.get('evalue')}"]), 'cell-output-error')
    data = o.get('data') or {}
    mime = next((m for m in _MIMES if m in data), None)
    if mime is None: return ''
    v = _txt(data[mime])
    if mime == 'text/markdown' and showdoc: return _showdoc_html(v)
    if mime == 'text/markdown': v = md2html(v)
    elif mime.startswith('image/') and mime != 'image/svg+xml':
        v = '<img src="data:%s;base64,%s" alt="output image">' % (mime, re.sub(r'\s', '', v))
    elif mime != 'text/html': return _pre(v, 'cell-output-display')
    return f'<div class="cell-output cell-output-display">{v}</div>'

def render_cell(cell:dict, # a processed notebook cell
               ) -> str:
    "HTML for one processed notebook cell."
    kind, src = cell.get('cell_type'), cell.get('source') or ''
    if kind == 'markdown': return md2html(src)
    if kind == 'raw':
        fmt = str(cell.get('metadata', {}).get('format') or cell.get('metadata', {}).get('raw_mimetype') or '').lower()
        return src if 'html' in fmt else md2html(src) if 'markdown' in fmt else ''
    if kind != 'code': return ''
    opts, code = _cell_opts(src)
    if _off(opts.get('include', True)): return ''
    showdoc = bool(re.match(r'^\s*show_doc\(', code)) and opts.get('output') == 'asis'
    parts = []
    if code.strip() and not _off(opts.get('echo', True)):
        h = highlight(code, cell.get('metadata', {}).get('language', 'python'))
        if 'code-fold' in opts and not _off(opts['code-fold']):
            op = ' open' if opts['code-fold'] == 'show' else ''
            summary = html.escape(opts.get('code-summary', 'Code'))
            h = f'<details class="code-fold"{op}><summary>{summary}</summary>{h}</details>'
        parts.append(f'<div class="cell-code">{h}</div>')
    if not _off(opts.get('output', True)): parts += [render_output(o, showdoc) for o in cell.get('outputs', [])]
    parts = [p for p in parts if p]
    if not parts: return ''
    return '\n'.join(parts) if showdoc and len(parts) == 1 else '<div class="cell">' + '\n'.join(parts) + '</div>'

def _slug(text):
    "Pandoc's heading id: lowercase, punctuation but `_-.` dropped, spaces to dashes, no leading non-letters."
    s = re.sub(r'[^\w\s.-]', '', html.unescape(re.sub(r'<[^>]+>', '', text)).lower(), flags=re.U)
    return re.sub(r'^[^a-z]+', '', re.sub(r'\s+', '-', s.strip())) or 'section'

def _anchor_headings(body):
    "Give every heading a unique pandoc-style id and a hover link; returns the body and `(level, id, text, is_api)` of h2/h3."
    seen, toc = {}, []
    def f(m):
        lvl, inner, api = int(m[1]), re.sub(r'<a class="anchor-link".*?</a>', '', m[3], flags=re.S), 'doc-name' in m[2]
        base = _slug(inner); n = seen.get(base, 0); seen[base] = n + 1
        hid = base if n == 0 else f'{base}-{n}'
        if lvl in (2, 3): toc.append((lvl, hid, html.unescape(re.sub(r'<[^>]+>', '', inner)).strip(), api))
        cls = ' class="doc-name"' if api else ''
        return f'<h{lvl} id="{hid}"{cls}>{inner}<a class="anchor" href="#{hid}" aria-hidden="true">#</a></h{lvl}>'
    return re.sub(r'<h([1-6])([^>]*)>(.*?)</h\1>', f, body, flags=re.S), toc

def _fix_links(body, site_url, prefix):
    "Links into the published site, and to notebooks, as relative links between the generated pages."
    def f(m):
        url = m[2]
        if site_url and url.startswith(site_url + '/'): url = prefix + url[len(site_url) + 1:]
        elif not re.match(r'^[a-z][\w+.-]*:|^#|^/', url):
            u, sep, frag = url.partition('#')
            if u.endswith('.ipynb'): url = page_name(u) + sep + frag
        return f'{m[1]}"{url}"'
    return re.sub(r'(\shref=)"([^"]*)"', f, body)

_PAGE = '''<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="fer_docs">
<title>{{ title }}{% if title != site %} – {{ site }}{% endif %}</title>
{% if description %}<meta name="description" content="{{ description }}">{% endif %}
<link rel="stylesheet" href="{{ prefix }}fer_docs.css">
{% if styles %}<link rel="stylesheet" href="{{ prefix }}styles.css">{% endif %}
</head>
<body>
<header class="topbar">
  <a class="brand" href="{{ prefix }}index.html">{{ site }}</a>
  {% if version %}<span class="version">{{ version }}</span>{% endif %}
  <span class="tagline">{{ site_description }}</span>
  {% if repo %}<a class="repo" href="{{ repo }}">Source</a>{% endif %}
</header>
<div class="layout">
<nav class="sidebar" id="sidebar" aria-label="Pages">
  <ul>
  {% for p in nav %}{% if p.section %}<li class="nav-section">{{ p.section }}</li>{% endif %}
    <li><a href="{{ p.href }}"{% if p.current %} class="active" aria-current="page"{% endif %}>{{ p.title }}</a></li>
  {% endfor %}</ul>
</nav>
<main class="content" id="content">
  <header class="page-header">
    <h1 class="title">{{ title }}</h1>
    {% if description %}<div class="description">{{ description_html }}</div>{% endif %}
  </header>
{{ body }}
  <nav class="pager" aria-label="Previous and next page">
    {% if prev %}<a class="prev" href="{{ prev.href }}"><small>Previous</small>{{ prev.title }}</a>{% endif %}
    {% if next %}<a class="next" href="{{ next.href }}"><small>Next</small>{{ next.title }}</a>{% endif %}
  </nav>
  <footer class="page-footer">
    Generated from <code>{{ source }}</code> by <code>fer_docs</code>: edit the notebook, not this page.
  </footer>
</main>
<aside class="toc" id="toc" aria-label="On this page">
  {% if toc %}<p class="toc-title">On this page</p>
  <ul>{% for h in toc %}
    <li><a href="#{{ h.id }}"{% if h.api %} class="api"{% endif %}>{{ h.text }}</a>{% if h.children %}
      <ul>{% for c in h.children %}
        <li><a href="#{{ c.id }}"{% if c.api %} class="api"{% endif %}>{{ c.text }}</a></li>{% endfor %}
      </ul>{% endif %}
    </li>{% endfor %}
  </ul>{% endif %}
</aside>
</div>
</body>
</html>
'''

_CSS = '''
:root { --fg:#1f2328; --muted:#5b6470; --border:#dde3ea; --soft:#f6f8fa; --accent:#2468c9; --accent-soft:#eaf1fb;
  --top:3.5rem; --side:16rem; --tocw:15rem;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace; }
* { box-sizing: border-box; }
html { scroll-padding-top: calc(var(--top) + 1rem); }
body { margin: 0; color: var(--fg); background: #fff; font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", "Noto Sans", "DejaVu Sans", Arial, sans-serif; -webkit-font-smoothing: antialiased; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.topbar { position: sticky; top: 0; z-index: 10; height: var(--top); display: flex; align-items: center; gap: .9rem;
  padding: 0 1.5rem; background: #1d3557; color: #fff; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
.topbar .brand { color: #fff; font-weight: 700; font-size: 1.15rem; letter-spacing: .01em; }
.topbar .version { font-size: .75rem; padding: .05rem .45rem; border-radius: 999px; background: rgba(255,255,255,.18); }
.topbar .tagline { flex: 1; min-width: 0; font-size: .9rem; opacity: .8; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.topbar .repo { margin-left: auto; color: #fff; font-size: .85rem; padding: .25rem .75rem; border: 1px solid rgba(255,255,255,.45); border-radius: 6px; }
.topbar .repo:hover { background: rgba(255,255,255,.12); text-decoration: none; }
.layout { display: grid; grid-template-columns: var(--side) minmax(0, 1fr) var(--tocw); max-width: 90rem; margin: 0 auto; }
.sidebar, .toc { position: sticky; top: var(--top); align-self: start; max-height: calc(100vh - var(--top)); overflow-y: auto; padding: 1.75rem 1rem; }
.sidebar { height: calc(100vh - var(--top)); border-right: 1px solid var(--border); }
.sidebar ul, .toc ul { list-style: none; margin: 0; padding: 0; }
.sidebar a { display: block; padding: .4rem .8rem; margin: .1rem 0; border-radius: 6px; color: var(--fg); font-size: .94rem; }
.sidebar a:hover { background: var(--soft); text-decoration: none; }
.sidebar a.active { background: var(--accent-soft); color: var(--accent); font-weight: 600; }
.sidebar .nav-section { margin: 1rem .8rem .3rem; font-size: .75rem; font-weight: 600; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.toc { font-size: .85rem; }
.toc .toc-title { margin: 0 0 .6rem; font-size: .72rem; font-weight: 700; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
.toc a { display: block; padding: .18rem 0 .18rem .8rem; color: var(--muted); border-left: 2px solid var(--border); overflow-wrap: anywhere; }
.toc a:hover { color: var(--accent); border-left-color: var(--accent); text-decoration: none; }
.toc ul ul a { padding-left: 1.6rem; }
.toc a.api { font-family: var(--mono); font-size: .78rem; }
.content { min-width: 0; padding: 2.25rem 3rem 4rem; }
.content > * { max-width: 52rem; }
.page-header { margin-bottom: 2rem; padding-bottom: 1.25rem; border-bottom: 1px solid var(--border); }
h1.title { margin: 0 0 .4rem; font-size: 2.3rem; line-height: 1.2; letter-spacing: -.01em; }
.page-header .description { font-size: 1.15rem; color: var(--muted); font-style: normal; opacity: 1; padding: 0; }
.content h2 { margin: 2.75rem 0 1rem; padding-bottom: .35rem; font-size: 1.6rem; line-height: 1.3; border-bottom: 1px solid var(--border); }
.content h3 { margin: 2rem 0 .75rem; font-size: 1.25rem; }
.content h4 { margin: 1.5rem 0 .5rem; font-size: 1.05rem; }
.anchor { margin-left: .45rem; color: var(--muted); font-weight: 400; opacity: 0; }
h2:hover .anchor, h3:hover .anchor, h4:hover .anchor { opacity: .6; text-decoration: none; }
p, ul, ol { margin: 0 0 1rem; }
li { margin: .2rem 0; }
code { font-family: var(--mono); font-size: .86em; }
:not(pre) > code { padding: .12em .38em; border-radius: 5px; background: #eff2f5; }
a > code { color: inherit; }
pre { margin: 0; padding: .85rem 1rem; overflow-x: auto; font-size: .84rem; line-height: 1.55; }
.highlight { margin: 0 0 1rem; border: 1px solid var(--border); border-radius: 8px; background: var(--soft); }
.cell { margin: 0 0 1.25rem; }
.cell .cell-code .highlight { margin-bottom: .35rem; }
.cell-output pre { padding: .4rem .9rem; background: none; }
.cell-output-stderr pre { color: #8a4b00; }
.cell-output-error pre { color: #b3261e; }
.cell-output-display { overflow-x: auto; }
.cell-output img { max-width: 100%; height: auto; }
details.code-fold { margin: 0 0 .5rem; }
details.code-fold > summary { cursor: pointer; width: fit-content; padding: .15rem .1rem; color: var(--muted); font-size: .85rem; }
details.code-fold > summary:hover { color: var(--accent); }
details.code-fold[open] > summary { margin-bottom: .4rem; }
.doc-entry { position: relative; margin: 1.5rem 0 1.25rem; padding: .2rem 1.25rem .4rem; border: 1px solid var(--border);
  border-left: 4px solid var(--accent); border-radius: 8px; background: #fff; box-shadow: 0 1px 2px rgba(16,24,40,.05); }
.doc-entry h3, .doc-entry h4 { margin: .9rem 0 .7rem; font-family: var(--mono); font-size: 1.08rem; font-weight: 650; }
.doc-entry .source-link { float: right; margin-top: 1rem; font-size: .78rem; color: var(--muted); }
.doc-entry .highlight { margin-bottom: .75rem; }
.doc-entry p { margin-bottom: .6rem; }
.doc-entry table { font-size: .86rem; }
table { margin: 0 0 1rem; border-collapse: collapse; font-size: .92rem; display: block; overflow-x: auto; }
th, td { padding: .4rem .75rem; border: 1px solid var(--border); text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
blockquote { margin: 0 0 1rem; padding: .1rem 1rem; border-left: 4px solid var(--border); color: var(--muted); }
blockquote p { margin: .5rem 0; }
hr { border: 0; border-top: 1px solid var(--border); margin: 2rem 0; }
img { max-width: 100%; }
.callout { margin: 0 0 1rem; padding: .75rem 1rem; border-left: 4px solid var(--accent); border-radius: 6px; background: var(--accent-soft); }
.callout > :last-child { margin-bottom: 0; }
.callout-tip { border-color: #2e7d32; background: #edf7ee; }
.callout-warning, .callout-caution { border-color: #c77700; background: #fff6e5; }
.callout-important { border-color: #c62828; background: #fdecea; }
.pager { display: flex; gap: 1rem; margin-top: 3.5rem; }
.pager a { flex: 1; max-width: 50%; padding: .75rem 1rem; border: 1px solid var(--border); border-radius: 8px; font-weight: 600; }
.pager a:hover { border-color: var(--accent); text-decoration: none; }
.pager small { display: block; color: var(--muted); font-size: .75rem; font-weight: 400; }
.pager .next { margin-left: auto; text-align: right; }
.page-footer { margin-top: 2rem; padding-top: 1rem; border-top: 1px solid var(--border); color: var(--muted); font-size: .8rem; }
@media (max-width: 72rem) { .layout { grid-template-columns: var(--side) minmax(0, 1fr); } .toc { display: none; } }
@media (max-width: 48rem) {
  .layout { display: block; }
  .sidebar { position: static; height: auto; max-height: none; padding: .75rem 1rem; border-right: 0; border-bottom: 1px solid var(--border); }
  .sidebar ul { display: flex; flex-wrap: wrap; gap: .25rem; }
  .content { padding: 1.5rem 1rem 3rem; }
  .topbar .tagline { display: none; }
}
@media print { .topbar, .sidebar, .toc, .pager { display: none; } .layout { display: block; } }
'''

def _site_css():
    "The site's stylesheet: Pygments' colours for highlighted code, then the layout above."
    from pygments.formatters import HtmlFormatter
    pyg = HtmlFormatter(style='default').get_style_defs('.highlight')
    pyg = '\n'.join(l for l in pyg.splitlines() if not l.startswith(('pre {', '.highlight  {', '.highlight {')))
    return pyg + '\n' + _CSS

def _toc_tree(toc):
    res = []
    for lvl, hid, text, api in toc:
        item = dict(id=hid, text=text, api=api, children=[])
        if lvl == 3 and res: res[-1]['children'].append(item)
        else: res.append(item)
    return res

def _missing_note(flags) -> str:
    "A warning at the top of an executed page whose flagged cells were not run (their figures are missing)."
    if not flags: return ''
    names = ', '.join(f'<code>{html.escape(f)}</code>' for f in flags)
    return ('<div class="callout callout-warning missing-outputs" role="note"><p><strong>Built without some outputs.</strong> '
            f'The cells flagged {names} were not run when this page was built, so the figures and tables they make '
            '(on FER-2013, for the <code>data</code> flag) are missing here. Run <code>fer_docs</code> where the data is '
            '(<code>$FER2013</code>, or <code>shared/data/fer2013.tar.xz</code> beside the project) to include them.</p></div>\n')

def render_page(nb:dict, # processed notebook, from `process_notebook`
                pages:list, # every page in order: dicts with `href` (relative to the site root), `title` and `source`
                i:int, # index of this page in `pages`
                site:dict, # `name`, `description`, `version`, `repo`, `url` (the published site), `styles` (bool)
               ) -> str:
    "The HTML of one docs page."
    import jinja2
    from markupsafe import Markup
    here = pages[i]
    prefix = '../' * here['href'].count('/')
    fm = nb.get('frontmatter_') or {}
    body = _missing_note(nb.get('skipped_flags_')) + '\n'.join(h for h in (render_cell(c) for c in nb.get('cells', [])) if h)
    body, toc = _anchor_headings(_fix_links(body, site.get('url'), prefix))
    rel = lambda p: prefix + p['href']
    nav, last = [], None
    for j, p in enumerate(pages):
        sec = p['href'].rpartition('/')[0]
        nav.append(dict(href=rel(p), title=p['title'], current=j == i,
                        section=sec.replace('_', ' ').title() if sec != last and sec else ''))
        last = sec
    link = lambda j: dict(href=rel(pages[j]), title=pages[j]['title']) if 0 <= j < len(pages) else None
    tpl = jinja2.Environment(autoescape=True).from_string(_PAGE)
    desc = str(fm.get('description') or '')
    desc_html = Markup(re.sub(r'^<p>(.*)</p>$', r'\1', md2html(desc).strip(), flags=re.S))  # inline markdown, as Quarto
    return tpl.render(title=fm.get('title') or here['title'], description=desc, description_html=desc_html, body=Markup(body),
                      prefix=prefix, nav=nav, toc=_toc_tree(toc), prev=link(i - 1), next=link(i + 1), source=here['source'],
                      site=site.get('name', ''), site_description=site.get('description', ''),
                      version=site.get('version', ''), repo=site.get('repo', ''), styles=site.get('styles', False))

def _copy_images(page, nb_path, nbs, site):
    "Copy the local images `page` shows (markdown `![](images/x.png)`) from beside notebook `nb_path` into the site."
    for src in re.findall(r'<img\s[^>]*?src="([^"]+)"', page):
        src = html.unescape(src).split('#')[0].split('?')[0]
        if not src or re.match(r'^[a-zA-Z][\w+.-]*:|^/', src): continue
        f = (nb_path.parent/src).resolve()
        if f.is_file() and f.is_relative_to(nbs.resolve()):
            dest = site/f.relative_to(nbs.resolve()); dest.parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, dest)

def _process_all(paths, execute=False, n_workers=None, timeout=120, flags=None):
    "Processed notebooks for `paths` (`execute`: one bool, or one per path): here in turn, or in `n_workers` processes."
    n, ex = n_workers or 1, list(execute) if isinstance(execute, (list, tuple)) else [execute] * len(paths)
    if n <= 1 or len(paths) <= 1: return [process_notebook(p, e, timeout, flags) for p, e in zip(paths, ex)]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(n, mp_context=mp.get_context('spawn')) as pool:
        return list(pool.map(process_notebook, paths, ex, [timeout] * len(paths), [flags] * len(paths)))

def _replace_dir(new, out):
    "Move the finished build `new` to `out`, replacing an earlier build (never a folder fer_docs did not write)."
    if out.exists():
        if not out.is_dir() or any(out.iterdir()) and not (out/'.fer_docs').exists():
            raise DocsError(f"{out}: exists and was not written by fer_docs; remove it or choose another output folder")
        old = out.with_name(f'.{out.name}.old-{os.getpid()}')
        out.rename(old); new.rename(out); shutil.rmtree(old)
    else: new.rename(out)

def select_notebooks(paths:list, # notebooks, as `list_notebooks` gives them
                     nbs_path, # the notebooks folder they are in
                     patterns, # names or shell patterns, space-separated or a list: `16_report`, `report`, `1[4-6]_*`, `tutorials/*`
                    ) -> list[bool]:
    "Which of `paths` match any of `patterns` (by file name, stem, path in the notebooks folder or page name); DocsError for a pattern matching none."
    import fnmatch
    pats = patterns.replace(',', ' ').split() if isinstance(patterns, str) else list(patterns)
    names = [{r.as_posix(), r.name, r.stem, r.with_suffix('').as_posix(), page_name(r), Path(page_name(r)).stem}
             for r in (Path(p).relative_to(nbs_path) for p in paths)]
    hit = lambda pat, ns: any(fnmatch.fnmatchcase(n, pat) for n in ns)
    if bad := [pat for pat in pats if not any(hit(pat, ns) for ns in names)]:
        raise DocsError(f"{', '.join(bad)}: no such notebook in {nbs_path}")
    return [any(hit(pat, ns) for pat in pats) for ns in names]

def build_docs(nbs_path=None, # notebooks folder; default: `nbs_path` of the project's settings.ini
               out=None, # output folder; default: `doc_path` of settings.ini (`_docs`)
               execute:bool=False, # run every code cell so pages show all outputs (slow)
               n_workers:int=None, # worker processes (default: none, notebooks are processed here in turn)
               timeout:int=120, # seconds one cell may run before the build fails
               flags=None, # tst_flags whose cells run too when executing, e.g. 'data' (space-separated, or a list)
               exec_only=None, # execute only these notebooks (names or patterns, see `select_notebooks`); implies `execute`
              ) -> Path:
    "Build the static HTML docs site from the notebooks, one page per notebook, without Quarto; returns the output folder."
    if lacking := [m for m in ('nbdev', 'execnb', 'nbconvert') if find_spec(m) is None]:
        raise DocsError(f"building the docs needs {', '.join(lacking)}: pip install -e '.[docs]' in the project's clone")
    cfg, nbs = _project(nbs_path)
    out = Path(out).resolve() if out is not None else cfg.doc_path
    paths = list_notebooks(nbs, not _off(cfg.get('recursive', True)))
    if not paths: raise DocsError(f"{nbs}: no notebooks to document")
    ex = select_notebooks(paths, nbs, exec_only) if exec_only else [bool(execute)] * len(paths)
    nbs_ = _process_all(paths, ex, n_workers, timeout, flags)
    pages = []
    for p, nb in zip(paths, nbs_):
        rel = p.relative_to(nbs)
        title = (nb.get('frontmatter_') or {}).get('title') or Path(page_name(rel)).stem.replace('_', ' ').title()
        pages.append(dict(href=page_name(rel), title=title, source=(Path(nbs.name)/rel).as_posix()))
        if nb.get('skipped_flags_'):
            warnings.warn(f"{page_name(rel)}: built without the cells flagged {' '.join(nb['skipped_flags_'])}; "
                          "the figures they make are missing (the page says so)", DocsWarning, stacklevel=2)
    site = dict(name=cfg.get('title', cfg.get('lib_name', '')), description=cfg.get('description', ''),
                version=cfg.get('version', ''), repo=cfg.get('git_url', ''),
                url=(cfg.get('doc_host', '') + cfg.get('doc_baseurl', '')).rstrip('/'),
                styles=(nbs/'styles.css').exists())
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f'.{out.name}.new-', dir=out.parent))
    umask = os.umask(0o22); os.umask(umask); tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private
    try:
        for i, nb in enumerate(nbs_):
            dest = tmp/pages[i]['href']; dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(page := render_page(nb, pages, i, site), encoding='utf-8')
            _copy_images(page, paths[i], nbs, tmp)
        if not (tmp/'index.html').exists():  # no front page: a contents page
            items = '\n'.join(f'- [{p["title"]}]({p["href"]})' for p in pages)
            front = dict(frontmatter_=dict(title=site['name'], description=site['description']),
                         cells=[dict(cell_type='markdown', source=f'## Contents\n\n{items}')])
            contents = [dict(href='index.html', title='Contents', source=nbs.name)] + pages
            (tmp/'index.html').write_text(render_page(front, contents, 0, site), encoding='utf-8')
        (tmp/'fer_docs.css').write_text(_site_css(), encoding='utf-8')
        if site['styles']: shutil.copy2(nbs/'styles.css', tmp/'styles.css')
        (tmp/'.fer_docs').write_text('written by fer_docs; the whole folder is replaced on the next build\n')
        _replace_dir(tmp, out)
    finally:
        if tmp.exists(): shutil.rmtree(tmp)
    return out

_WARNING = '<!-- WARNING: THIS FILE WAS AUTOGENERATED! DO NOT EDIT! -->'

def _fence(text, lang=''):
    ticks = '`' * max(3, max((len(m) for m in re.findall(r'`{3,}', text)), default=0) + 1)
    return f'{ticks}{lang}\n{text.rstrip()}\n{ticks}'

def readme_markdown(nbs_path=None, # notebooks folder; default: `nbs_path` of the project's settings.ini
                    files:dict=None, # if a dict, output images are added to it as {relative path: bytes}
                   ) -> str:
    "README.md's text from the project's `readme_nb` (index.ipynb), as `nbdev_readme` makes it but without Quarto."
    cfg, nbs = _project(nbs_path)
    src = nbs/cfg.get('readme_nb', 'index.ipynb')
    if not src.exists(): raise DocsError(f"{src}: not found (readme_nb in {cfg.config_file})")
    nb = process_notebook(src)
    fm, site_url = nb.get('frontmatter_') or {}, (cfg.get('doc_host', '') + cfg.get('doc_baseurl', '')).rstrip('/')
    rel = Path(os.path.relpath(src.parent, cfg.config_path)).as_posix()
    def links(md):  # README.md sits at the root: local images from beside the notebook, notebooks -> their published pages
        local = r'(?![a-zA-Z][\w+.-]*:|/|#)'
        md = re.sub(rf'(!\[[^\]]*\]\(){local}([^)\s]+)', lambda m: f"{m[1]}{rel}/{m[2]}", md)
        if not site_url: return md
        page = lambda m: f"]({site_url}/{page_name(m[1])}{m[2] or ''})"
        return re.sub(rf'\]\({local}([^)\s#]+\.ipynb)(#[^)\s]*)?\)', page, md)
    parts = [f"# {fm['title']}" if fm.get('title') else '', _WARNING, f"> {fm['description']}" if fm.get('description') else '']
    for i, c in enumerate(nb['cells']):
        kind, text = c.get('cell_type'), c.get('source') or ''
        if kind == 'markdown' and text.strip() != _WARNING: parts.append(links(text))
        elif kind == 'raw' and 'markdown' in str(c.get('metadata', {}).get('format', '')).lower(): parts.append(text)
        if kind != 'code': continue
        opts, code = _cell_opts(text)
        if _off(opts.get('include', True)): continue
        if code.strip() and not _off(opts.get('echo', True)):
            parts.append(_fence(code, c.get('metadata', {}).get('language', 'python')))
        if _off(opts.get('output', True)): continue
        for j, o in enumerate(c.get('outputs', [])):
            if o.get('output_type') == 'stream': parts.append(_fence(_txt(o.get('text'))))
            elif o.get('output_type') == 'error': parts.append(_fence(f"{o.get('ename')}: {o.get('evalue')}"))
            data = o.get('data') or {}
            if 'text/markdown' in data: parts.append(_txt(data['text/markdown']))
            elif img := next((m for m in ('image/png', 'image/jpeg', 'image/gif') if m in data), None):
                name = f'{src.stem}_files/figure-readme/cell-{i}-output-{j}.{img.split("/")[1]}'
                if files is not None: files[name] = base64.b64decode(_txt(data[img]))
                parts.append(f'![]({name})')
            elif 'text/html' in data: parts.append(_txt(data['text/html']))
            elif 'text/plain' in data: parts.append(_fence(_txt(data['text/plain'])))
    md = '\n\n'.join(p.strip('\n') for p in parts if p and p.strip())
    return re.sub(r'\n{3,}', '\n\n', md) + '\n'

def build_readme(nbs_path=None, # notebooks folder; default: `nbs_path` of the project's settings.ini
                 dest=None, # file to write; default: README.md beside settings.ini
                ) -> Path:
    "Write README.md (and any output images beside it) from `index.ipynb`; returns its path."
    cfg, nbs = _project(nbs_path)
    dest = Path(dest) if dest is not None else cfg.config_path/'README.md'
    files = {}
    text = readme_markdown(nbs, files)
    for name, data in files.items():
        with atomic_write(dest.parent/name, 'wb') as f: f.write(data)
    if not dest.exists() or dest.read_text(encoding='utf-8') != text:
        with atomic_write(dest, 'w') as f: f.write(text)
    return dest

def serve_docs(path, # the built site
               port:int=8000, # 0 picks a free port
               block:bool=True, # serve until Ctrl-C; False returns the running server (call `.shutdown()`)
              ):
    "Serve the folder `path` on http://127.0.0.1:`port`/."
    import functools, threading, http.server
    class _Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args): pass
    try: srv = http.server.ThreadingHTTPServer(('127.0.0.1', port), functools.partial(_Quiet, directory=str(path)))
    except OSError as e: raise DocsError(f"port {port}: {e.strerror or e}") from None
    if not block:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        return srv
    print(f"serving {path} at http://127.0.0.1:{srv.server_port}/ (Ctrl-C to stop)", flush=True)
    try: srv.serve_forever()
    except KeyboardInterrupt: print('stopped')
    finally: srv.server_close()

@call_parse
def fer_docs(path:str=None, # notebooks folder; default: `nbs_path` of the project's settings.ini
             out:str=None, # output folder; default: `doc_path` of settings.ini (`_docs`)
             no_readme:bool=False, # leave README.md as it is (by default it is rebuilt from index.ipynb)
             execute:bool=False, # run every code cell of every notebook so pages show all outputs (slow)
             exec_only:str=None, # execute only these notebooks, e.g. '16_report'; default: settings.ini's `docs_exec`
             no_exec:bool=False, # execute nothing: API reference only, no figures (fast)
             flags:str=None, # flagged cells to run too when executing; default: all `tst_flags` if FER-2013 is found
             serve:int=None, # after building, serve the site on this port until Ctrl-C
             n_workers:int=None, # worker processes (default: none, notebooks are processed here in turn)
             timeout:int=120, # seconds one cell may run before the build fails
            ):
    "Build the HTML docs site and README.md from the notebooks, without Quarto."
    with cli_errors('fer_docs'), warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter('always', DocsWarning)
        t0 = time.time()
        cfg, _ = _project(path)
        if no_exec: execute, exec_only = False, None
        elif not execute and exec_only is None:  # the notebooks settings.ini names, with their flagged cells where the data is
            exec_only = cfg.get('docs_exec') or None
            if exec_only and flags is None and find_fer2013() is not None: flags = cfg.get('tst_flags', '')
        site = build_docs(path, out, execute=execute, n_workers=n_workers, timeout=timeout, flags=flags, exec_only=exec_only)
        n = len(list(site.rglob('*.html')))
        print(f"fer_docs: {n} pages in {time.time() - t0:.1f}s; open {site/'index.html'}")
        for w in notes:
            if issubclass(w.category, DocsWarning): print(f"fer_docs: note: {w.message}")
        if find_fer2013() is None and any('flagged' in str(w.message) for w in notes):
            print("fer_docs: note: FER-2013 was not found: set $FER2013 to the archive, zip or folder to build the figures")
        if not no_readme: print(f"fer_docs: wrote {build_readme(path)}")
        if serve is not None: serve_docs(site, serve)
