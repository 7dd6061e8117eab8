"""fer_docs_render: the HTML of the documentation site that `tools/fer_docs.py` builds: Markdown and code to HTML,
notebook outputs and cells, links and headings, and the page around them (template `fer_docs_page.html`, stylesheet
`fer_docs.css`, both beside this file). A development tool, not part of the fer_nbdev package; see `nbs/90_docs.ipynb`."""
from __future__ import annotations
import re, ast, html
from pathlib import Path

__all__ = ['page_name', 'md2html', 'highlight', 'render_output', 'render_cell', 'render_page']

_HERE = Path(__file__).resolve().parent
_PAGE = (_HERE/'fer_docs_page.html').read_text(encoding='utf-8')   # the page template (jinja2)
_CSS = (_HERE/'fer_docs.css').read_text(encoding='utf-8')          # the site's layout and colours

_re_opt = re.compile(r'^\s*#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')
def _cell_opts(src):
    "Split the Quarto `#| key: value` lines at the top of a code cell from its code."
    opts, lines = {}, (src or '').splitlines()
    while lines and (m := _re_opt.match(lines[0])): opts[m[1]] = m[2].strip('"\''); lines.pop(0)
    return opts, '\n'.join(lines).strip('\n')

def _off(v): return str(v).lower() in ('false', 'no', '0')
def _txt(v): return ''.join(v) if isinstance(v, list) else (v or '')

def page_name(nb_path) -> str:
    "The HTML page nbdev makes of notebook `nb_path` (relative to the notebooks folder): `00_core.ipynb` -> `core.html`."
    p = Path(nb_path)
    return p.with_name(re.sub(r'^\d+[a-zA-Z0-9]*_', '', p.name.lower())).with_suffix('.html').as_posix()

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
