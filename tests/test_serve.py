"""`fer_serve`'s app end to end: the API with FastAPI's test client, a real uvicorn server on loopback, headless Chromium
on the web page, and a bounded load test. A tiny untrained checkpoint: labels mean nothing, no accuracy is claimed."""
import asyncio, base64, io, json, shutil, socket, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
from cli_helpers import run_script, script_cmd
import torch
from PIL import Image

pytest.importorskip('fastapi'); pytest.importorskip('httpx')
import httpx
from fastapi.testclient import TestClient
from fer_nbdev.data import FER2013_CLASSES
from fer_nbdev.detect import sample_photo
from fer_nbdev.models import create_model, save_checkpoint
from fer_nbdev.serve import create_app

SERVER = '''import sys, uvicorn
from fastapi.responses import Response
from fer_nbdev.serve import create_app
app = create_app(sys.argv[1])
jpg = open(sys.argv[2], 'rb').read()
@app.get('/test/astronaut.jpg', include_in_schema=False)
def _astronaut(): return Response(jpg, media_type='image/jpeg')
uvicorn.run(app, host='127.0.0.1', port=int(sys.argv[3]), log_level='warning')
'''


@pytest.fixture(scope='module')
def work(tmp_path_factory):
    torch.set_num_threads(2)
    d = tmp_path_factory.mktemp('fer_serve')
    torch.manual_seed(0)
    save_checkpoint(d / 'tiny.pt', create_model('fer_tiny'), list(FER2013_CLASSES), metrics={'test': {'accuracy': 0.25}})
    img, truth = sample_photo('astronaut')
    Image.fromarray(img).save(d / 'astronaut.jpg', quality=90)
    (d / 'server.py').write_text(SERVER)
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
    assert client.get('/healthz').json() == {'status': 'ok'}
    m = client.get('/v1/model').json()
    assert m['name'] == 'fer_tiny' and m['classes'] == list(FER2013_CLASSES) and m['metrics']['test']['accuracy'] == 0.25
    assert '/v1/predict' in client.get('/openapi.json').json()['paths']
    assert '<canvas' in client.get('/').text


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
def _serving(cmd, port):
    "Start a server process on 127.0.0.1:`port`, wait for /healthz, yield its URL, stop it."
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(300):
            if p.poll() is not None: pytest.fail(f'server exited: {p.stdout.read().decode()[-2000:]}')
            try:
                if httpx.get(url + '/healthz', timeout=1).status_code == 200: break
            except httpx.HTTPError: time.sleep(0.1)
        else: pytest.fail('server did not start')
        yield url
    finally:
        p.terminate()
        try: p.wait(10)
        except subprocess.TimeoutExpired: p.kill()


@pytest.fixture(scope='module')
def server(work):
    d, _ = work
    port = _free_port()
    with _serving([sys.executable, str(d / 'server.py'), str(d / 'tiny.pt'), str(d / 'astronaut.jpg'), str(port)], port) as url:
        yield url


def test_fer_serve_cli_onnx(work):
    "The console script itself, on ONNX Runtime (`fer_export` first)."
    d, _ = work
    r = run_script('fer_export', d / 'tiny.pt', '--out', d / 'tiny.onnx', timeout=120)
    assert r.returncode == 0, r.stderr
    port = _free_port()
    cmd = script_cmd('fer_serve') + ['--checkpoint', str(d / 'tiny.pt'), '--onnx', str(d / 'tiny.onnx'), '--port', str(port)]
    with _serving(cmd, port) as url:
        assert httpx.get(url + '/v1/model').json()['backend'] == 'onnx'
        jpg = (d / 'astronaut.jpg').read_bytes()
        r = httpx.post(url + '/v1/predict', files={'file': ('a.jpg', jpg, 'image/jpeg')}, timeout=30)
        assert r.status_code == 200 and r.json()['n_faces'] == 1


def test_http_upload(work, server):
    jpg = (work[0] / 'astronaut.jpg').read_bytes()
    r = httpx.post(server + '/v1/predict', files={'file': ('astronaut.jpg', jpg, 'image/jpeg')}, timeout=30)
    assert r.status_code == 200 and r.json()['n_faces'] == 1


@pytest.mark.skipif(not shutil.which('chromium'), reason="Debian's chromium is not installed")
def test_browser(work, server):
    "Headless Chromium loads the page, which sends the astronaut to /v1/predict and draws the result."
    d, truth = work
    args = ['chromium', '--headless', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=20000',
            f'--user-data-dir={d / "chrome"}']
    url = server + '/?src=/test/astronaut.jpg'
    r = subprocess.run(args + ['--dump-dom', url], capture_output=True, text=True, timeout=60)
    dom = r.stdout
    assert 'data-state="done"' in dom, dom[-3000:] + r.stderr[-2000:]
    assert 'data-faces="1"' in dom and 'class="face"' in dom
    assert any(f'data-label="{c}"' in dom for c in FER2013_CLASSES)
    assert 'Model fer_tiny (torch)' in dom
    shot = d / 'fer_serve_page.png'
    subprocess.run(args + ['--window-size=900,1200', f'--screenshot={shot}', url], capture_output=True, timeout=60)
    assert shot.is_file() and Image.open(shot).size == (900, 1200)
    print(f'screenshot: {shot}')


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
    codes, lat, wall = asyncio.run(main())
    assert codes == [200] * n
    p50, p99 = np.percentile(lat, [50, 99]) * 1000
    print(f'load: {n} requests, {conc} concurrent, 512x512 JPEG: p50 {p50:.0f} ms, p99 {p99:.0f} ms, {n / wall:.1f} req/s')
