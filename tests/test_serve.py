"""`fer_serve`'s app end to end: the API with FastAPI's test client, the real `fer_serve` (uvicorn) on loopback, the page's
?src guard in headless Chromium (the page itself: tests/test_web.py), and a bounded load test. Mostly a tiny
untrained checkpoint: its labels mean nothing, no accuracy is claimed. The full load benchmark is benchmarks/serve_load.py."""
import asyncio, base64, io, json, os, shutil, socket, subprocess, tempfile, time
from pathlib import Path
import numpy as np
import pytest
from cli_helpers import run_script, script_cmd
from PIL import Image

pytest.importorskip('fastapi'); pytest.importorskip('httpx')
import httpx
from fastapi.testclient import TestClient
from fer_nbdev.data import FER2013_CLASSES
from fer_nbdev.detect import sample_photo
from fer_nbdev.serve import create_app



@pytest.fixture(scope='module')
def work(tiny_checkpoint):
    d = tiny_checkpoint.parent
    img, truth = sample_photo('astronaut')
    Image.fromarray(img).save(d / 'astronaut.jpg', quality=90)
    return d, truth[0]


@pytest.fixture(scope='module')
def client(work):
    return TestClient(create_app(work[0] / 'tiny.pt', max_bytes=1_000_000, max_pixels=2_000_000, max_faces=4))


def test_api(work, client):
    d, truth = work
    jpg = (d / 'astronaut.jpg').read_bytes()
    r = client.post('/v1/predict', files={'file': ('astronaut.jpg', jpg, 'image/jpeg')})
    assert r.status_code == 200, r.text
    f, = r.json()['faces']
    assert np.abs(np.array(f['box']) - truth).max() < 12 and f['label'] in FER2013_CLASSES
    r2 = client.post('/v1/predict', json={'image': 'data:image/jpeg;base64,' + base64.b64encode(jpg).decode()})
    assert r2.status_code == 200 and r2.json()['faces'][0]['probs'] == f['probs']
    assert client.get('/healthz').json()['status'] == 'ok'
    m = client.get('/v1/model').json()
    assert m['name'] == 'fer_tiny' and m['classes'] == list(FER2013_CLASSES) and m['metrics']['test']['accuracy'] == 0.25
    assert '/v1/predict' in client.get('/openapi.json').json()['paths']
    assert '<canvas' in client.get('/').text
    assert m['colors']['happy'] == '#E69F00' and m['explain'] is True and m['model_card'] == '/model-card'
    assert 'fer_tiny' in client.get('/model-card').text


def test_api_explain(work, client):
    "Issue 14: ?explain=true adds each face's saliency map, a grey PNG at the model's input size; bad values are one-line 422s."
    jpg = (work[0] / 'astronaut.jpg').read_bytes()
    r = client.post('/v1/predict', params={'explain': 'true'}, files={'file': ('a.jpg', jpg, 'image/jpeg')})
    assert r.status_code == 200, r.text
    f, = r.json()['faces']
    s = f['saliency']
    m = Image.open(io.BytesIO(base64.b64decode(s['map_png'])))
    assert (m.mode, m.size, s['size'], s['target']) == ('L', (48, 48), [48, 48], f['label'])
    x0, y0, x1, y1 = f['box']; X0, Y0, X1, Y1 = s['box']
    e = 1e-6   # the square the model saw contains the box (at margin 0 it touches the box on its longer side)
    assert X0 <= x0 + e and x1 - e <= X1 and Y0 <= y0 + e and y1 - e <= Y1 and abs((X1 - X0) - (Y1 - Y0)) < e
    spec = client.get('/openapi.json').json()['paths']['/v1/predict']['post']
    assert [p['name'] for p in spec['parameters']] == ['explain'] and 'saliency' in json.dumps(spec['responses']['200'])
    for bad in ('yes please', 'TRUE!', '2'):
        r = client.post('/v1/predict', params={'explain': bad}, files={'file': ('a.jpg', jpg, 'image/jpeg')})
        assert r.status_code == 422 and 'must be true or false' in r.json()['detail'] and '\n' not in r.json()['detail'], r.text


def _png(w, h):
    b = io.BytesIO(); Image.new('L', (w, h)).save(b, 'PNG'); return b.getvalue()


@pytest.mark.parametrize('kw,status', [
    (dict(content=b'x', headers={'content-type': 'text/plain'}), 415),
    (dict(files={'file': ('a.txt', b'hi', 'text/plain')}), 415),
    (dict(files={'file': ('a.jpg', b'\0' * 1_100_000, 'image/jpeg')}), 413),
    (dict(files={'file': ('a.png', _png(2000, 1001), 'image/png')}), 413),
    (dict(files={'file': ('a.jpg', b'garbage', 'image/jpeg')}), 422),
    (dict(json={'image': '@@not base64@@'}), 422),
    (dict(json={'nope': 1}), 422),
    (dict(json=[1, 2]), 422),
    (dict(content=b'{', headers={'content-type': 'application/json'}), 422),
    (dict(content=b'[' * 100_000 + b']' * 100_000, headers={'content-type': 'application/json'}), 422),  # RecursionError was a 500
    (dict(content=b'--x\r\nbroken', headers={'content-type': 'multipart/form-data; boundary=x'}), 422),
])
def test_bad_requests(client, kw, status):
    r = client.post('/v1/predict', **kw)
    assert r.status_code == status, r.text
    assert isinstance(r.json()['detail'], str)


def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


import contextlib

@contextlib.contextmanager
def _serving(cmd, port, env=None):
    "Start a server process on 127.0.0.1:`port`, wait for /healthz, yield its URL, stop it."
    log = tempfile.TemporaryFile()  # not a pipe: unread, it would fill up with access-log lines and block the server
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, OMP_NUM_THREADS='2', **(env or {})))
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(300):
            if p.poll() is not None: log.seek(0); pytest.fail(f'server exited: {log.read().decode()[-2000:]}')
            try:
                if httpx.get(url + '/healthz', timeout=1).status_code == 200: break
            except httpx.HTTPError: time.sleep(0.1)
        else: pytest.fail('server did not start')
        yield url
    finally:
        p.terminate()
        try: p.wait(10)
        except subprocess.TimeoutExpired: p.kill()
        log.close()


@pytest.fixture(scope='module')
def server(work):
    "The `fer_serve` console script on a free loopback port, serving the tiny checkpoint."
    d, _ = work
    port = _free_port()
    with _serving(script_cmd('fer_serve') + ['--checkpoint', str(d / 'tiny.pt'), '--port', str(port)], port) as url:
        yield url


@pytest.mark.parametrize('how', ['onnx-file', 'backend-onnx'])
def test_fer_serve_cli_onnx(work, how):
    "The console script itself on ONNX Runtime: a file from `fer_export`, or `--backend onnx` (exported on the fly, cached)."
    d, _ = work
    env = {'FER_NBDEV_CACHE': str(d / 'cache')}
    if how == 'onnx-file':
        r = run_script('fer_export', d / 'tiny.pt', '--out', d / 'tiny.onnx', timeout=120)
        assert r.returncode == 0, r.stderr
        args = ['--checkpoint', str(d / 'tiny.onnx')]
    else: args = ['--checkpoint', str(d / 'tiny.pt'), '--backend', 'onnx']
    port = _free_port()
    with _serving(script_cmd('fer_serve') + args + ['--port', str(port)], port, env) as url:
        m = httpx.get(url + '/v1/model').json()
        assert (m['backend'], m['name'], m['metrics']) == ('onnx', 'fer_tiny', {'test': {'accuracy': 0.25}})
        jpg = (d / 'astronaut.jpg').read_bytes()
        r = httpx.post(url + '/v1/predict', files={'file': ('a.jpg', jpg, 'image/jpeg')}, timeout=30)
        assert r.status_code == 200 and r.json()['n_faces'] == 1
        r = httpx.post(url + '/v1/predict?explain=true', files={'file': ('a.jpg', jpg, 'image/jpeg')}, timeout=30)
        assert r.status_code == 501 and 'PyTorch backend' in r.json()['detail'] and m['explain'] is False, r.text


def test_fer_predict_backend_onnx(work, client):
    "`fer_predict --backend onnx` gives the faces and labels of the PyTorch model; a bad .onnx file is one error line."
    d, _ = work
    env = {'FER_NBDEV_CACHE': str(d / 'cache')}
    r = run_script('fer_predict', d / 'astronaut.jpg', '--checkpoint', d / 'tiny.pt', '--backend', 'onnx', '--out', d / 'p_onnx', env=env)
    assert r.returncode == 0, r.stderr
    f, = json.loads((d / 'p_onnx' / 'faces.json').read_text())['images'][0]['faces']
    ref, = client.post('/v1/predict', files={'file': ('a.jpg', (d / 'astronaut.jpg').read_bytes(), 'image/jpeg')}).json()['faces']
    assert f['label'] == ref['label'] and max(abs(f['probs'][c] - ref['probs'][c]) for c in f['probs']) <= 1.0001e-4
    (d / 'bad.onnx').write_bytes(b'not an onnx model')
    r = run_script('fer_predict', d / 'astronaut.jpg', '--checkpoint', d / 'bad.onnx', '--out', d / 'p_bad', env=env)
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and 'bad.onnx: not a readable ONNX model' in r.stderr, r.stderr


def test_http_upload(work, server):
    jpg = (work[0] / 'astronaut.jpg').read_bytes()
    r = httpx.post(server + '/v1/predict', files={'file': ('astronaut.jpg', jpg, 'image/jpeg')}, timeout=30)
    assert r.status_code == 200 and r.json()['n_faces'] == 1


def test_load(work, server):
    "A bounded load test: 200 requests, 8 at a time, on loopback; zero errors."
    jpg = (work[0] / 'astronaut.jpg').read_bytes()
    n, conc = 200, 8
    async def main():
        lat, sem = [], asyncio.Semaphore(conc)
        async with httpx.AsyncClient(base_url=server, timeout=60) as c:
            async def one():
                async with sem:
                    t = time.perf_counter()
                    r = await c.post('/v1/predict', files={'file': ('a.jpg', jpg, 'image/jpeg')})
                    lat.append(time.perf_counter() - t)
                    return r.status_code
            t0 = time.perf_counter()
            codes = await asyncio.gather(*[one() for _ in range(n)])
            return codes, lat, time.perf_counter() - t0
    h0 = httpx.get(server + '/healthz').json()
    codes, lat, wall = asyncio.run(main())
    h1 = httpx.get(server + '/healthz').json()
    assert codes == [200] * n
    reqs, batches = h1['requests'] - h0['requests'], h1['batches'] - h0['batches']
    assert reqs == n and batches < n   # concurrent requests shared model calls
    p50, p99 = np.percentile(lat, [50, 99]) * 1000
    print(f'load: {n} requests, {conc} concurrent, 512x512 JPEG: p50 {p50:.0f} ms, p99 {p99:.0f} ms, {n / wall:.1f} req/s, '
          f'{reqs / batches:.1f} photos per model call')


@pytest.mark.parametrize('args, needle', [
    (['--detector', 'foo'], 'unknown detector'),
    (['--port', '99999'], '--port 99999'),
    (['--host', 'no-such-host.invalid'], 'no-such-host.invalid'),
    (['--port', 'IN_USE'], 'cannot listen there'),
])
def test_fer_serve_refuses_to_start(work, args, needle):
    "Issue 11 items 9 and 13: every bad start-up value is one line and exit 2, before the server listens."
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0)); busy.listen()
        args = [str(busy.getsockname()[1]) if a == 'IN_USE' else a for a in args]
        r = subprocess.run(script_cmd('fer_serve') + ['--checkpoint', str(work[0] / 'tiny.pt'), '--port', str(_free_port())] + args,
                           capture_output=True, text=True, timeout=120, env=dict(os.environ, OMP_NUM_THREADS='2'))
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and needle in r.stderr and 'Traceback' not in r.stderr, r.stderr


def test_client_disconnect_is_quiet(work):
    "Issue 11 item 9: a client that sends half a multipart upload and hangs up leaves no traceback in the server's log."
    port = _free_port()
    log = tempfile.TemporaryFile()
    p = subprocess.Popen(script_cmd('fer_serve') + ['--checkpoint', str(work[0] / 'tiny.pt'), '--port', str(port)],
                         stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, OMP_NUM_THREADS='2'))
    try:
        url = f'http://127.0.0.1:{port}'
        for _ in range(300):
            try:
                if httpx.get(url + '/healthz', timeout=1).status_code == 200: break
            except httpx.HTTPError: time.sleep(0.1)
        for _ in range(3):
            with socket.create_connection(('127.0.0.1', port)) as s:
                s.sendall(b'POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n'
                          b'Content-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
                          b'Content-Type: image/jpeg\r\n\r\n' + b'x' * 1000)
                time.sleep(0.3)
        time.sleep(1)
        assert httpx.get(url + '/healthz', timeout=5).status_code == 200
    finally:
        p.terminate(); p.wait(10)
        log.seek(0); out = log.read().decode(); log.close()
    assert 'Traceback' not in out, out[-3000:]
    assert len([l for l in out.splitlines() if 'disconnect' in l.lower() or 'error' in l.lower()]) <= 3, out[-3000:]


@pytest.mark.skipif(not shutil.which('chromium'), reason="Debian's chromium is not installed (no browser is downloaded)")
def test_page_src_same_origin_only(work, server):
    "Issue 11 item 15: `?src=/%5Cevil.example/x.jpg` (a backslash browsers read as '/') and other origins are never fetched."
    sync_api = pytest.importorskip('playwright.sync_api', reason='playwright (Python) is not installed')
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which('chromium'), args=['--no-sandbox', '--disable-gpu'])
        try:
            page, requests = browser.new_page(), []
            page.on('request', lambda r: requests.append(r.url))
            for src in ['/%5Cevil.example/x.jpg', '%2F%2Fevil.example/x.jpg', 'https://evil.example/x.jpg', '/\\/evil.example/x.jpg']:
                page.goto(server + '/?src=' + src)
                sync_api.expect(page.locator('#status')).to_contain_text('src must be a path on this server', timeout=10_000)
            page.goto(server + '/?src=/v1/model')   # a same-origin path is loaded (it is not an image: the page says so)
            page.wait_for_function("document.body.dataset.state === 'error'", timeout=30_000)
        finally: browser.close()
    assert not [u for u in requests if 'evil' in u.split('?')[0]], requests
    assert any(u == server + '/v1/model' for u in requests), requests
