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
sys.path.insert(0, str(Path(__file__).resolve().parent))   # fer_docs_render beside this file, however it is run
from fer_docs_render import *
from fer_docs_render import _cell_opts, _off, _txt, _site_css, _showdoc_html, _slug, _anchor_headings, _fix_links   # for this tool and its notebook
try: from nbdev.process import Processor  # nbdev, execnb and nbconvert come with the `docs` extra, not the runtime
except ImportError: Processor = object    # `build_docs` then says what to install, in one line

__all__ = ['DocsError', 'DocsWarning', 'page_name', 'list_notebooks', 'doc_procs', 'process_notebook', 'md2html', 'highlight',
           'render_output', 'render_cell', 'render_page', 'select_notebooks', 'build_docs', 'readme_markdown',
           'build_readme', 'serve_docs', 'fer_docs']

class DocsError(FerError):
    "A missing notebooks folder or project, or a notebook that cannot be read or processed into docs."

class DocsWarning(UserWarning):
    "A page built without some of its outputs (flagged cells left out), which `fer_docs` reports."

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
