#!/usr/bin/env python
"""Load test of `fer_serve` on loopback (issue 6): latency and throughput of POST /v1/predict with a real photo.

Starts the `fer_serve` console script (the shipped default model unless --checkpoint is given) on a free 127.0.0.1 port,
waits for /healthz, warms up, then sends --requests POST /v1/predict requests (multipart upload of scikit-image's
astronaut, 512x512 JPEG) with httpx's async client: first one at a time (the baseline), then --concurrency at a time.
Prints, for both, the error count, p50 and p99 latency, throughput and the photos per model call (the server batches
concurrent requests; from /healthz), and the throughput ratio. Exits 1 if any request failed (non-200 or exception).

  python benchmarks/serve_load.py                      # 1,000 requests at 1, then at 16 concurrent
  python benchmarks/serve_load.py --requests 200 --concurrency 8 --checkpoint runs/quickstart/best.pt
  python benchmarks/serve_load.py --big                # memory: 16 concurrent 6000x6000 PNG uploads (issue 11 item 4)
  python benchmarks/serve_load.py --webcam 30          # the web page's webcam loop: one 640x480 frame in flight, 30 s, then with ?explain=true

With --big it sends --concurrency uploads at once of a ~100 KB PNG of 6000x6000 zero pixels (36 megapixels, under the
40-megapixel limit, ~400 MB to decode naively) and prints the server's resident memory before, its peak during the run
(VmHWM from /proc/PID/status) and after, with each request's status and latency.

With --webcam SECONDS it plays the web page's webcam client: 640x480 JPEG frames (quality 85) of the astronaut
drifting over grey, one request in flight at a time and at most 15 a second (as fer_nbdev/static/app.js sends them),
for SECONDS without and then SECONDS with ?explain=true; it prints frames per second and p50/p99 latency of each.

The client runs on the same machine as the server, so on a small machine it takes some of the server's CPU.
"""
from __future__ import annotations
import argparse, asyncio, io, os, platform, shutil, socket, subprocess, sys, tempfile, time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def photo_jpeg(quality:int=90) -> bytes:
    "scikit-image's astronaut (512x512 RGB, one face) as JPEG bytes."
    from PIL import Image
    from skimage import data
    b = io.BytesIO(); Image.fromarray(data.astronaut()).save(b, 'JPEG', quality=quality); return b.getvalue()


def serve_cmd(args) -> list:
    exe = shutil.which('fer_serve')
    cmd = [exe] if exe else [sys.executable, '-c', 'import sys; from fer_nbdev.serve import fer_serve; sys.exit(fer_serve())']
    if args.checkpoint: cmd += ['--checkpoint', args.checkpoint]
    if args.backend != 'torch': cmd += ['--backend', args.backend]
    return cmd + ['--host', '127.0.0.1', '--port', str(args.port)]


def wait_ready(url:str, proc, log, timeout:float=120):
    import httpx
    t = time.time()
    while time.time() - t < timeout:
        if proc.poll() is not None: log.seek(0); sys.exit(f"serve_load: fer_serve exited: {log.read().decode()[-2000:]}")
        try:
            if httpx.get(url + '/healthz', timeout=2).status_code == 200: return
        except httpx.HTTPError: pass
        time.sleep(0.2)
    sys.exit('serve_load: fer_serve did not start')


async def run_load(url:str, jpg:bytes, n:int, conc:int) -> dict:
    "Send `n` requests, `conc` at a time; latencies, errors, wall time and the server's batching over the run."
    import httpx, numpy as np
    lat, errors, todo = [], [], iter(range(n))
    limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as c:
        h0 = (await c.get('/healthz')).json()
        async def worker():
            for _ in todo:
                t = time.perf_counter()
                try:
                    r = await c.post('/v1/predict', files={'file': ('astronaut.jpg', jpg, 'image/jpeg')})
                    ok = r.status_code == 200 and r.json().get('n_faces') == 1
                    if not ok: errors.append(f"{r.status_code}: {r.text[:200]}")
                except Exception as e: errors.append(f"{type(e).__name__}: {e}")
                lat.append(time.perf_counter() - t)
        t0 = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(conc)])
        wall = time.perf_counter() - t0
        h1 = (await c.get('/healthz')).json()
    p50, p99 = np.percentile(lat, [50, 99]) * 1000
    reqs, batches = h1.get('requests', 0) - h0.get('requests', 0), h1.get('batches', 0) - h0.get('batches', 0)
    return dict(concurrency=conc, requests=n, errors=len(errors), first_errors=errors[:3], p50=p50, p99=p99,
                throughput=n / wall, wall=wall, per_call=reqs / batches if batches else float('nan'))


def rss_mb(pid:int) -> dict:
    "The process's current (VmRSS) and peak (VmHWM) resident memory in MB, from /proc."
    out = {}
    for l in open(f'/proc/{pid}/status'):
        k, _, v = l.partition(':')
        if k in ('VmRSS', 'VmHWM'): out[k] = int(v.split()[0]) / 1024
    return out


async def run_big(url:str, png:bytes, conc:int) -> list:
    "`conc` uploads of `png` at once; (status, seconds, detail) each."
    import httpx
    async with httpx.AsyncClient(base_url=url, timeout=300) as c:
        async def one():
            t = time.perf_counter()
            r = await c.post('/v1/predict', files={'file': ('big.png', png, 'image/png')})
            return r.status_code, time.perf_counter() - t, r.text[:120] if r.status_code != 200 else ''
        return await asyncio.gather(*[one() for _ in range(conc)])


def big_png(side:int=6000) -> bytes:
    from PIL import Image
    b = io.BytesIO(); Image.new('RGB', (side, side)).save(b, 'PNG'); return b.getvalue()


def main_big(args, url, proc) -> int:
    png = big_png()
    time.sleep(2)
    idle = rss_mb(proc.pid)
    t = time.perf_counter()
    res = asyncio.run(run_big(url, png, args.concurrency))
    wall = time.perf_counter() - t
    peak = rss_mb(proc.pid)
    time.sleep(3)
    after = rss_mb(proc.pid)
    codes = {}
    for s, _, _ in res: codes[s] = codes.get(s, 0) + 1
    lat = sorted(x for _, x, _ in res)
    print(f"\n{args.concurrency} concurrent POST /v1/predict, multipart 6000x6000 RGB PNG of zeros ({len(png):,} bytes), loopback")
    print(f"status codes: {codes}; latency min {lat[0]:.2f} s, median {lat[len(lat) // 2]:.2f} s, max {lat[-1]:.2f} s; wall {wall:.2f} s")
    print(f"server RSS: idle {idle['VmRSS']:.0f} MB (peak so far {idle['VmHWM']:.0f} MB); peak during the run (VmHWM) "
          f"{peak['VmHWM']:.0f} MB; after {after['VmRSS']:.0f} MB")
    bad = [r for r in res if r[0] not in (200, 503)]
    if bad: print(f"serve_load: unexpected answers: {bad[:3]}", file=sys.stderr); return 1
    return 0


def webcam_frames(n:int=24) -> list:
    "`n` 640x480 JPEG frames (quality 85) of the astronaut, 400 px, drifting left and right over grey."
    import numpy as np
    from PIL import Image
    from skimage import data
    face = np.asarray(Image.fromarray(data.astronaut()).resize((400, 400), Image.BILINEAR))
    out = []
    for i in range(n):
        fr = np.full((480, 640, 3), 118, np.uint8)
        dx = int(round(60 + 40 * np.sin(2 * np.pi * i / n)))
        fr[40:440, dx:dx + 400] = face
        b = io.BytesIO(); Image.fromarray(fr).save(b, 'JPEG', quality=85); out.append(b.getvalue())
    return out


def run_webcam(url:str, frames:list, seconds:float, explain:bool, min_gap:float=0.066) -> dict:
    "Send `frames` in a loop, one in flight, at most one per `min_gap` s, for `seconds`; frames per second and latencies."
    import httpx, numpy as np
    lat, errors, t0 = [], 0, time.perf_counter()
    with httpx.Client(base_url=url, timeout=60) as c:
        while time.perf_counter() - t0 < seconds:
            t = time.perf_counter()
            r = c.post('/v1/predict' + ('?explain=true' if explain else ''), files={'file': ('frame.jpg', frames[len(lat) % len(frames)], 'image/jpeg')})
            ok = r.status_code == 200 and r.json().get('n_faces') == 1 and (not explain or 'saliency' in r.json()['faces'][0])
            errors += not ok
            lat.append(time.perf_counter() - t)
            time.sleep(max(0.0, min_gap - (time.perf_counter() - t)))
    wall = time.perf_counter() - t0
    p50, p99 = np.percentile(lat, [50, 99]) * 1000
    return dict(explain=explain, frames=len(lat), errors=errors, fps=len(lat) / wall, p50=p50, p99=p99)


def main_webcam(args, url) -> int:
    frames = webcam_frames()
    run_webcam(url, frames, 3, True)   # warm-up, explanations included
    runs = [run_webcam(url, frames, args.webcam, e) for e in (False, True)]
    print(f"\nwebcam loop: 640x480 JPEG frames ({sum(map(len, frames)) // len(frames):,} bytes on average, 1 face), one in flight, "
          f"at most 15/s, {args.webcam:g} s each, loopback\n")
    print('| explain | frames | errors | frames per second | p50 latency (ms) | p99 latency (ms) |')
    print('|---|---:|---:|---:|---:|---:|')
    for r in runs: print(f"| {str(r['explain']).lower()} | {r['frames']} | {r['errors']} | {r['fps']:.1f} | {r['p50']:.0f} | {r['p99']:.0f} |")
    try: print('load average after the runs %.2f %.2f %.2f' % os.getloadavg())
    except OSError: pass
    return 1 if any(r['errors'] for r in runs) else 0


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try: cpu = next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): pass
    try: load = ', load average before the run %.2f %.2f %.2f' % os.getloadavg()
    except OSError: load = ''
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}{load}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--requests', type=int, default=1000, help='requests per run (the baseline and the concurrent run)')
    ap.add_argument('--concurrency', type=int, default=16, help='requests in flight in the concurrent run')
    ap.add_argument('--warmup', type=int, default=20, help='untimed requests first')
    ap.add_argument('--checkpoint', help='checkpoint to serve; default: the model shipped with fer_nbdev')
    ap.add_argument('--backend', default='torch', choices=['torch', 'onnx'], help="fer_serve's --backend")
    ap.add_argument('--port', type=int, default=0, help='port on 127.0.0.1; 0: a free one')
    ap.add_argument('--webcam', type=float, default=0, metavar='SECONDS', help="the web page's webcam loop for SECONDS, without and with ?explain=true")
    ap.add_argument('--big', action='store_true', help='memory test: --concurrency 6000x6000 PNG uploads at once; peak and after RSS')
    args = ap.parse_args(argv)
    args.port = args.port or free_port()
    import httpx
    jpg, url = photo_jpeg(), f'http://127.0.0.1:{args.port}'
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', str(min(os.cpu_count() or 1, 2))))
    print(f"machine: {machine()}; started {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    # the server's log goes to a file: a pipe nobody reads fills up after a few hundred access-log lines and blocks it
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(serve_cmd(args), stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_ready(url, proc, log)
        m = httpx.get(url + '/v1/model').json()
        acc = ((m.get('metrics') or {}).get('test') or {}).get('accuracy')
        print(f"server: {' '.join(serve_cmd(args))}\nmodel: {m['name']} ({m['backend']}) from {m['checkpoint']}"
              + (f", test accuracy {acc:.4f}" if acc is not None else '') + f"; limits {m.get('limits')}")
        asyncio.run(run_load(url, jpg, args.warmup, min(args.concurrency, args.warmup) or 1))
        if args.big: return main_big(args, url, proc)
        if args.webcam: return main_webcam(args, url)
        runs = [asyncio.run(run_load(url, jpg, args.requests, c)) for c in (1, args.concurrency)]
    finally:
        proc.terminate()
        try: proc.wait(15)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()
    print(f"\n{args.requests} POST /v1/predict per run, multipart 512x512 JPEG ({len(jpg):,} bytes, 1 face), loopback\n")
    print('| concurrency | requests | errors | p50 latency (ms) | p99 latency (ms) | throughput (req/s) | photos per model call |')
    print('|---:|---:|---:|---:|---:|---:|---:|')
    for r in runs:
        print(f"| {r['concurrency']} | {r['requests']:,} | {r['errors']} | {r['p50']:.1f} | {r['p99']:.1f} | "
              f"{r['throughput']:.1f} | {r['per_call']:.2f} |")
    print(f"\nthroughput ratio (concurrency {args.concurrency} / 1): {runs[1]['throughput'] / runs[0]['throughput']:.2f}")
    bad = [e for r in runs for e in r['first_errors']]
    if any(r['errors'] for r in runs):
        print(f"serve_load: {sum(r['errors'] for r in runs)} requests failed, e.g. {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
