"""`fer_serve`'s web page in headless Chromium (Playwright for Python driving Debian's /usr/bin/chromium; no browser is
downloaded): one photo, several photos, the JSON and CSV downloads, a phone-width layout, the saliency switch, the
webcam (Chromium's fake camera fed a .y4m made here from the astronaut photo), and an axe-core accessibility audit
(axe.min.js vendored under tests/assets/axe-core, MPL-2.0). The server is the `fer_serve` console script serving the
shipped default model, as a user starts it. Screenshots go to runs/screenshots/ (git-ignored); the webcam's measured
frames per second and latency to runs/screenshots/web_webcam.json (see benchmarks/RESULTS.md).

Chromium is CPU-heavy: run this file alone (`pytest -q tests/test_web.py`)."""
import csv, io, json, os, shutil
from pathlib import Path
import numpy as np
import pytest
from PIL import Image

pytest.importorskip('fastapi'); pytest.importorskip('httpx')
sync_api = pytest.importorskip('playwright.sync_api', reason='playwright (Python) is not installed')
if not shutil.which('chromium'): pytest.skip("Debian's chromium is not installed (no browser is downloaded)", allow_module_level=True)
import httpx
from cli_helpers import script_cmd
from test_serve import _serving, _free_port
from fer_nbdev.detect import sample_photo, face_grid
from fer_nbdev.recognize import default_weights

HERE = Path(__file__).resolve().parent
AXE = HERE / 'assets' / 'axe-core' / 'axe.min.js'
SHOTS = HERE.parent / 'runs' / 'screenshots'   # runs/ is git-ignored
ARGS = ['--no-sandbox', '--disable-gpu']
if not default_weights().is_file(): pytest.skip('no shipped default model in this checkout', allow_module_level=True)


def write_y4m(path, frames, fps:int=12):
    "Frames (RGB uint8 [H, W, 3], H and W even) as a YUV4MPEG2 file: a header, then per frame 'FRAME' and planar I420 (BT.601)."
    h, w = frames[0].shape[:2]
    with open(path, 'wb') as f:
        f.write(f'YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n'.encode())
        for fr in frames:
            r, g, b = (fr[..., i].astype(np.float32) for i in range(3))
            y = 0.299 * r + 0.587 * g + 0.114 * b
            u, v = 128 + 0.564 * (b - y), 128 + 0.713 * (r - y)
            sub = lambda c: c.reshape(h // 2, 2, w // 2, 2).mean((1, 3))
            f.write(b'FRAME\n')
            for plane in (y, sub(u), sub(v)): f.write(np.clip(np.round(plane), 0, 255).astype(np.uint8).tobytes())


def astronaut_video(n:int=36, size=(480, 640)):
    "The astronaut, 400 px, drifting slowly left and right over grey: `n` frames."
    img, _ = sample_photo('astronaut')
    face = np.asarray(Image.fromarray(img).resize((400, 400), Image.BILINEAR))
    H, W = size
    out = []
    for i in range(n):
        fr = np.full((H, W, 3), 118, np.uint8)
        dx = int(round(60 + 40 * np.sin(2 * np.pi * i / n)))
        fr[40:440, dx:dx + 400] = face
        out.append(fr)
    return out


@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    d = tmp_path_factory.mktemp('web')
    for name in ('astronaut', 'grace_hopper', 'chelsea'):
        Image.fromarray(sample_photo(name)[0]).save(d / f'{name}.jpg', quality=90)
    Image.fromarray(face_grid(2, 2, tile=200)[0]).save(d / 'group.jpg', quality=90)
    (d / 'notes.jpg').write_bytes(b'this is not a photo')
    write_y4m(d / 'astronaut.y4m', astronaut_video())
    return d


@pytest.fixture(scope='module')
def server():
    port = _free_port()
    with _serving(script_cmd('fer_serve') + ['--port', str(port)], port) as url: yield url


@pytest.fixture(scope='module')
def browser(assets):
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=shutil.which('chromium'), args=ARGS + [
            '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
            f"--use-file-for-fake-video-capture={assets / 'astronaut.y4m'}"])
        try: yield b
        finally: b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={'width': 1280, 'height': 900}, accept_downloads=True)
    ctx.add_init_script("""(() => {   // keep every camera stream the page opens, to check that it is released
        const md = navigator.mediaDevices; if (!md) return; window.__streams = [];
        const gum = md.getUserMedia.bind(md);
        md.getUserMedia = async c => { const s = await gum(c); window.__streams.push(s); return s; };
    })();""")
    p = ctx.new_page()
    errors = []
    p.on('pageerror', lambda e: errors.append(str(e)))
    p.goto(server + '/')
    sync_api.expect(p.locator('#model')).to_contain_text('PrivateTest', timeout=30_000)
    yield p
    ctx.close()
    assert not errors, errors


def wait_done(page, timeout=120_000):
    page.wait_for_function("['done', 'error'].includes(document.body.dataset.state)", timeout=timeout)
    return page.evaluate('document.body.dataset.state')


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    p = SHOTS / f'web_{name}.png'
    page.screenshot(path=str(p), full_page=True)
    return p


def axe_violations(page, impacts=('serious', 'critical')):
    page.add_script_tag(path=str(AXE))
    res = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [(v['id'], v['impact'], v['help'], [n['target'] for n in v['nodes']][:3]) for v in res['violations'] if v['impact'] in impacts]


def test_photo(page, server, assets):
    "The astronaut: one numbered box on her face, one card saying happy, seven labelled bars in the model's order, text >= 12 px."
    m = httpx.get(server + '/v1/model').json()
    acc = m['metrics']['test']['accuracy']
    sync_api.expect(page.locator('#model')).to_contain_text(f"Model {m['name']} ({m['backend']}): {100 * acc:.1f}% accuracy")
    assert page.locator('a[href="/model-card"]').count() >= 1 and 'not inner feelings' in page.inner_text('#note')
    page.set_input_files('#file', str(assets / 'astronaut.jpg'))
    assert wait_done(page) == 'done', page.inner_text('#status')
    cards = page.locator('#detail .card')
    assert cards.count() == 1
    card = cards.first
    assert card.get_attribute('data-label') == 'happy' and card.locator('h4').inner_text().startswith('1. happy')
    names = card.locator('.bars .name').all_inner_texts()
    assert names == m['classes'], names
    pcts = [float(t.rstrip('%')) for t in card.locator('.bars .pct').all_inner_texts()]
    assert abs(sum(pcts) - 100) <= 4 and max(pcts) == pcts[m['classes'].index('happy')], pcts
    sizes = page.evaluate("""() => [...document.querySelectorAll('#detail .card .name, #detail .card .pct, #detail .card h4, .box .tag')]
                                    .map(e => parseFloat(getComputedStyle(e).fontSize))""")
    assert min(sizes) >= 12, sizes
    fills = card.locator('.bars .fill').evaluate_all("es => es.map(e => getComputedStyle(e).backgroundColor)")
    want = [tuple(int(m['colors'][c][i:i + 2], 16) for i in (1, 3, 5)) for c in m['classes']]
    assert [tuple(map(int, f[4:-1].split(','))) for f in fills] == want, fills
    # the box: where the face is, in the photo's pixels
    _, (truth,) = sample_photo('astronaut')
    box = page.evaluate("""() => { const b = document.querySelector('#detail .box').getBoundingClientRect(),
                                          i = document.querySelector('#detail .stage img').getBoundingClientRect(), k = 512 / i.width;
                                    return [(b.left - i.left) * k, (b.top - i.top) * k, (b.right - i.left) * k, (b.bottom - i.top) * k]; }""")
    assert np.abs(np.array(box) - truth).max() < 16, (box, truth)
    assert page.locator('#detail .box .tag').inner_text().startswith('1 happy')
    # the crop is drawn, and hovering the card highlights the box (and back)
    assert page.evaluate("(() => { const c = document.querySelector('#detail .card canvas'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                         " let s = 0; for (let i = 0; i < d.length; i += 4) s += Math.abs(d[i] - 238); return s / (d.length / 4); })()") > 10
    card.hover()
    assert 'hi' in page.locator('#detail .box').get_attribute('class')
    page.mouse.move(1, 1)
    assert 'hi' not in page.locator('#detail .box').get_attribute('class')
    page.locator('#detail .box').focus()
    assert 'hi' in card.get_attribute('class')
    assert 'happy' in page.locator('#detail .stage img').get_attribute('alt')
    print(f"screenshot: {shot(page, 'photo_1280')}")
    assert axe_violations(page) == []


def test_many_photos_and_downloads(page, assets, tmp_path):
    "Four photos and a file that is not one: a grid with a summary per photo; JSON and CSV downloads with every face."
    files = [assets / n for n in ('astronaut.jpg', 'grace_hopper.jpg', 'chelsea.jpg', 'group.jpg', 'notes.jpg')]
    page.set_input_files('#file', [str(f) for f in files])
    wait_done(page)
    items = page.locator('#grid li')
    assert items.count() == 5
    sums = items.locator('.sum').all_inner_texts()
    assert sums[0].startswith('1 face: happy') and sums[2] == 'no face found' and sums[3].startswith('4 faces')
    assert sums[4].startswith('error:') and 'not a readable image' in sums[4], sums
    assert page.inner_text('#summary').startswith('4 of 5 photos done, 6 faces')
    items.nth(3).locator('button').click()
    assert page.locator('#detail .card').count() == 4 and page.locator('#detail .box').count() == 4
    with page.expect_download() as dl: page.click('#dl-json')
    data = json.loads(Path(dl.value.path()).read_text())
    assert [p['file'] for p in data['photos']] == [f.name for f in files]
    assert [len(p.get('faces', [])) for p in data['photos']] == [1, 1, 0, 4, 0] and 'error' in data['photos'][4]
    assert data['photos'][0]['faces'][0]['label'] == 'happy' and data['model']['classes'] == page.evaluate("fetch('/v1/model').then(r => r.json()).then(m => m.classes)")
    with page.expect_download() as dl: page.click('#dl-csv')
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text())))
    assert len(rows) == 6 and rows[0]['path'] == 'astronaut.jpg' and rows[0]['label'] == 'happy'
    assert abs(sum(float(v) for k, v in rows[0].items() if k.startswith('p_')) - 1) < 0.01
    print(f"screenshot: {shot(page, 'many_1280')}")
    assert axe_violations(page) == []
    # a folder (webkitdirectory): its images are added, other files skipped
    folder = tmp_path / 'album'; (folder / 'sub').mkdir(parents=True)
    shutil.copy(assets / 'astronaut.jpg', folder / 'a.jpg'); shutil.copy(assets / 'grace_hopper.jpg', folder / 'sub' / 'b.jpg')
    (folder / 'readme.txt').write_text('not a photo')
    page.click('#clear')
    page.set_input_files('#folder', str(folder))
    assert wait_done(page) == 'done'
    assert sorted(page.locator('#grid .name').all_inner_texts()) == ['album/a.jpg', 'album/sub/b.jpg']


def test_phone_layout_and_explain(page, assets):
    "At 390 px (and 320 px) nothing overflows sideways and the card sits below the photo; the switch lays saliency maps on face and card."
    page.set_viewport_size({'width': 390, 'height': 844})
    page.set_input_files('#file', str(assets / 'astronaut.jpg'))
    assert wait_done(page) == 'done'
    geo = page.evaluate("""() => ({sw: document.documentElement.scrollWidth, img: document.querySelector('#detail .stage img').getBoundingClientRect().bottom,
                                   card: document.querySelector('#detail .card').getBoundingClientRect().top})""")
    assert geo['sw'] <= 390 and geo['card'] > geo['img'], geo
    print(f"screenshot: {shot(page, 'photo_390')}")
    assert axe_violations(page) == []
    page.set_viewport_size({'width': 320, 'height': 700})
    assert page.evaluate('document.documentElement.scrollWidth') <= 320
    page.set_viewport_size({'width': 390, 'height': 844})
    page.check('#explain')
    page.wait_for_function("(document.getElementById('detail').dataset.drawn || '').match(/:true:1$/)", timeout=120_000)
    lit = page.evaluate("""() => { const c = document.querySelector('#detail .maps'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                                   let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 40; return n; }""")
    assert lit > 500, lit
    assert page.locator('#detail .card canvas').get_attribute('data-map') == '1'
    print(f"screenshot: {shot(page, 'explain_390')}")
    page.uncheck('#explain')
    page.wait_for_function("(document.getElementById('detail').dataset.drawn || '').match(/:false:0$/)", timeout=30_000)


def test_keyboard(page):
    "Tab reaches the photo picker, the folder picker, the switch and the webcam buttons, in that order."
    order = []
    for _ in range(12):
        page.keyboard.press('Tab')
        order.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
    ids = list(dict.fromkeys(i for i in order if i in ('file', 'folder', 'explain', 'cam-start')))   # (Tab wraps round)
    assert ids == ['file', 'folder', 'explain', 'cam-start'], order


def test_webcam(page):
    "The fake camera: at least 10 answered frames, boxes on the face, the chart drawn; pause, stop and a hidden tab release it."
    page.click('#cam-start')
    page.wait_for_function("+(document.getElementById('cam-stats').dataset.frames || 0) >= 12", timeout=180_000)
    stats = page.evaluate("({...document.getElementById('cam-stats').dataset})")
    assert page.locator('#cam-stage .box').count() >= 1
    assert page.locator('#cam-stage .box .tag').first.inner_text().split()[1] in page.evaluate("fetch('/v1/model').then(r => r.json()).then(m => m.classes)")
    assert int(page.get_attribute('#chart', 'data-points')) >= 10
    inked = page.evaluate("""() => { const c = document.getElementById('chart'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                                     let n = 0; for (let i = 0; i < d.length; i += 4) n += d[i + 3] > 0 && (Math.abs(d[i] - d[i + 1]) > 30 || Math.abs(d[i + 1] - d[i + 2]) > 30); return n; }""")
    assert inked > 50, inked   # coloured line pixels (a few seconds of a minute), not just the grey grid
    assert page.get_attribute('#chart', 'aria-label').startswith('Largest face now:')
    print(f"screenshot: {shot(page, 'webcam_1280')}")
    assert axe_violations(page) == []
    page.click('#cam-pause')
    assert page.evaluate('document.body.dataset.cam') == 'paused'
    n = int(page.get_attribute('#cam-stats', 'data-frames')); page.wait_for_timeout(1500)
    assert int(page.get_attribute('#cam-stats', 'data-frames')) <= n + 1   # at most the frame in flight
    page.click('#cam-pause')
    page.check('#explain')   # maps over the video too
    page.wait_for_function("+(document.getElementById('cam-maps').dataset.maps || 0) >= 1", timeout=60_000)
    page.click('#cam-stop')
    assert page.evaluate("window.__streams.flatMap(s => s.getTracks()).map(t => t.readyState)") == ['ended']
    assert page.evaluate('document.body.dataset.cam') == 'off'
    # a hidden tab releases the camera too
    page.click('#cam-start')
    page.wait_for_function("document.body.dataset.cam === 'on'")
    page.evaluate("Object.defineProperty(document, 'hidden', {value: true, configurable: true}); document.dispatchEvent(new Event('visibilitychange'))")
    assert page.evaluate("window.__streams.flatMap(s => s.getTracks()).map(t => t.readyState)") == ['ended', 'ended']
    assert 'tab was hidden' in page.inner_text('#cam-status')
    out = dict(fps=float(stats['fps']), latency_ms=float(stats['latency']), frames=int(stats['frames']), load=os.getloadavg(), cores=os.cpu_count())
    SHOTS.mkdir(parents=True, exist_ok=True); (SHOTS / 'web_webcam.json').write_text(json.dumps(out))
    print(f"webcam: {out['fps']:.1f} frames/s, median latency {out['latency_ms']:.0f} ms over the last 5 s, after {out['frames']} frames; load {out['load']}")


def test_model_card(page, server):
    "The card the page links to: the shipped model's MODEL_CARD.md, installed beside its weights, rendered, escaped."
    page.click('header a[href="/model-card"]')
    sync_api.expect(page.locator('h1')).to_contain_text('Model card')
    txt = page.inner_text('body')
    assert 'not inner feelings' in txt and ('PrivateTest' in txt)
    assert axe_violations(page) == []
