// fer_nbdev web page: photos (one or many), the webcam, and saliency maps, over the server's /v1/predict.
// Plain browser JavaScript, no library, no build step, no request to any other server.
'use strict';
(() => {
const $ = id => document.getElementById(id);
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else if (k === 'style') e.style.cssText = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}
const pct = (p, d = 0) => `${(100 * p).toFixed(d)}%`;
const sleep = ms => new Promise(ok => setTimeout(ok, ms));
const ALPHA = 0.5;        // smoothing of the webcam chart: weight of the newest frame, as fer_video's default
const WINDOW_S = 60;      // the chart shows the last minute
const MIN_GAP_MS = 66;    // the webcam never asks for more than ~15 frames a second
const S = {model: null, classes: [], colors: {}, photos: [], current: -1, maps: new WeakMap()};
const color = c => S.colors[c] || '#777777';

// ---- model information ------------------------------------------------------------------------------------------
async function loadModel() {
  const m = await (await fetch('/v1/model')).json();
  S.model = m; S.classes = m.classes; S.colors = m.colors || {};
  const met = m.metrics || {}, acc = met.test && met.test.accuracy, flip = m.tta === 'flip' && met.flip && met.flip.test;
  let t = `Model ${m.name} (${m.backend})`;
  t += acc != null ? `: ${pct(acc, 1)} accuracy on FER-2013's PrivateTest faces` +
       (flip ? ` (${pct(flip, 1)} with the mirror-image averaging this server uses)` : '') : ': its file states no test accuracy';
  $('model').textContent = `${t}. Classes: ${m.classes.join(', ')}.`;
  if (!m.explain) { $('explain').disabled = true; $('explain').parentElement.append(' (not available on this server)'); }
  buildLegend();
}

// ---- talking to the server --------------------------------------------------------------------------------------
async function predict(blob, name, explain) {
  const fd = new FormData();
  fd.append('file', blob, name || 'photo.jpg');
  const r = await fetch('/v1/predict' + (explain ? '?explain=true' : ''), {method: 'POST', body: fd});
  let res = null;
  try { res = await r.json(); } catch (e) { /* not JSON: said below */ }
  if (!r.ok || !res) { const err = new Error((res && res.detail) || `${r.status} ${r.statusText}`); err.status = r.status; throw err; }
  return res;
}

// ---- geometry and drawing shared by photos and the webcam ------------------------------------------------------
function square(f) {   // the square of the photo the model's crop came from, and its turn (detect.face_crops)
  if (f.saliency) {
    const [x0, y0, x1, y1] = f.saliency.box;
    return {cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, side: x1 - x0, angle: f.saliency.angle * Math.PI / 180};
  }
  const [x0, y0, x1, y1] = f.box, lm = f.landmarks, m = S.model && S.model.margin != null ? S.model.margin : 0.2;
  const angle = lm && lm.length > 1 ? Math.atan2(lm[1][1] - lm[0][1], lm[1][0] - lm[0][0]) : 0;
  return {cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, side: Math.max(x1 - x0, y1 - y0) * (1 + 2 * m), angle};
}
const STOPS = [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]];   // inferno, 5 stops
function heat(v) {
  const x = v * (STOPS.length - 1), i = Math.min(STOPS.length - 2, Math.floor(x)), f = x - i;
  return STOPS[i].map((a, k) => Math.round(a + f * (STOPS[i + 1][k] - a)));
}
function mapCanvas(f) {   // the face's saliency map coloured, transparent where the model did not look; cached
  if (!f.saliency) return Promise.resolve(null);
  if (S.maps.has(f)) return S.maps.get(f);
  const p = new Promise(ok => {
    const im = new Image();
    im.onload = () => {
      const c = el('canvas'); c.width = im.width; c.height = im.height;
      const ctx = c.getContext('2d'); ctx.drawImage(im, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height);
      for (let i = 0; i < d.data.length; i += 4) {
        const v = d.data[i] / 255, [r, g, b] = heat(v);
        d.data[i] = r; d.data[i + 1] = g; d.data[i + 2] = b; d.data[i + 3] = Math.round(255 * 0.8 * v * v);   // faint where it barely looked
      }
      ctx.putImageData(d, 0, 0); ok(c);
    };
    im.onerror = () => ok(null);
    im.src = 'data:image/png;base64,' + f.saliency.map_png;
  });
  S.maps.set(f, p);
  return p;
}
async function drawMaps(canvas, faces, w, h, show) {   // maps laid on the photo (canvas over it, in the photo's pixels)
  const k = Math.min(1, 1600 / Math.max(w, h));
  canvas.width = Math.round(w * k); canvas.height = Math.round(h * k);
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!show) return 0;
  let n = 0;
  for (const f of faces) {
    const m = await mapCanvas(f);
    if (!m) continue;
    const g = square(f);
    ctx.save(); ctx.scale(k, k); ctx.translate(g.cx, g.cy); ctx.rotate(g.angle);
    ctx.drawImage(m, -g.side / 2, -g.side / 2, g.side, g.side); ctx.restore(); n++;
  }
  canvas.dataset.maps = n;
  return n;
}
async function drawCrop(canvas, img, f, sx, sy, show) {   // the face as the model saw it (turned upright), and its map
  const n = canvas.width, ctx = canvas.getContext('2d'), g = square(f);
  ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.fillStyle = '#eeeeee'; ctx.fillRect(0, 0, n, n);
  ctx.translate(n / 2, n / 2); ctx.scale(n / (g.side * sx), n / (g.side * sx)); ctx.rotate(-g.angle);
  ctx.translate(-g.cx * sx, -g.cy * sy); ctx.drawImage(img, 0, 0);
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  const m = show ? await mapCanvas(f) : null;
  if (m) ctx.drawImage(m, 0, 0, n, n);
  canvas.dataset.map = m ? '1' : '0';
}
function faceBox(f, i, w, h, onpick) {   // a numbered box over the photo or video, placed in percent of its size
  const [x0, y0, x1, y1] = f.box, col = color(f.label);
  const b = el('button', {type: 'button', class: 'box' + (y0 / h < 0.08 ? ' top' : ''), 'data-face': i,
    'aria-label': `Face ${i + 1}: ${f.label}, ${pct(f.confidence)}`,
    style: `left:${100 * x0 / w}%;top:${100 * y0 / h}%;width:${100 * (x1 - x0) / w}%;height:${100 * (y1 - y0) / h}%;border-color:${color(f.label)}`},
    el('span', {class: 'tag', 'aria-hidden': 'true', style: `border-bottom:3px solid ${col}`, text: `${i + 1} ${f.label} ${pct(f.confidence)}`}));
  if (onpick) b.addEventListener('click', () => onpick(i));
  return b;
}
function bars(f, i) {   // seven labelled bars, in the model's class order and colours
  const ul = el('ul', {class: 'bars', 'aria-label': `Probabilities of face ${i + 1}`});
  for (const c of S.classes) {
    const p = f.probs[c] || 0;
    ul.append(el('li', {class: c === f.label ? 'top' : null},
      el('span', {class: 'name', text: c}),
      el('span', {class: 'track', 'aria-hidden': 'true'}, el('span', {class: 'fill', style: `width:${(100 * p).toFixed(1)}%;background:${color(c)}`})),
      el('span', {class: 'pct', text: pct(p)})));
  }
  return ul;
}

// ---- photos -----------------------------------------------------------------------------------------------------
const IMAGE_EXT = /\.(jpe?g|png|gif|bmp|webp|tiff?|avif)$/i;
const isImage = f => (f.type || '').startsWith('image/') || IMAGE_EXT.test(f.name);
function setStatus(text, err) { $('status').textContent = text; $('status').classList.toggle('err', !!err); }
function addFiles(files) {
  const imgs = [...files].filter(isImage);
  if (!imgs.length) { setStatus(files.length ? 'None of these files is an image.' : 'No file chosen.', true); return; }
  const first = S.photos.length;
  for (const f of imgs) {
    const blob = (f.type || '').startsWith('image/') ? f : new Blob([f], {type: 'image/jpeg'});
    S.photos.push({name: f.webkitRelativePath || f.name || 'photo', blob, url: URL.createObjectURL(blob), res: null, error: null, status: 'queued'});
  }
  S.current = first;
  runQueue();
}
let workers = 0;
function runQueue() {
  document.body.dataset.state = 'busy';
  renderAll();
  const want = Math.min(2, S.photos.filter(p => p.status === 'queued').length);   // two uploads at a time: the server batches them
  while (workers < want) { workers++; worker(); }
}
async function worker() {
  try {
    for (;;) {
      const p = S.photos.find(q => q.status === 'queued');
      if (!p) break;
      p.status = 'busy'; renderAll();
      try { p.res = await predict(p.blob, p.name.split('/').pop(), $('explain').checked); p.error = null; p.status = 'done'; }
      catch (e) {
        if (e.status === 503) { p.status = 'queued'; await sleep(1000); continue; }
        p.error = e.message; p.status = 'error';
      }
      renderAll();
    }
  } finally {
    workers--;
    if (!workers) finish();
  }
}
function finish() {
  const todo = S.photos.filter(p => p.status === 'queued' || p.status === 'busy').length;
  if (todo) return;
  const cur = S.photos[S.current], ok = S.photos.filter(p => p.status === 'done');
  document.body.dataset.state = !ok.length || (cur && cur.error) ? 'error' : 'done';
  document.body.dataset.photos = ok.length;
  document.body.dataset.faces = ok.reduce((n, p) => n + p.res.faces.length, 0);
  if (cur && cur.error) setStatus(`${cur.name}: ${cur.error}`, true);
  else setStatus(S.photos.length > 1 ? `All ${S.photos.length} photos done: see the summary below.` : summaryText());
}
function faceWord(n) { return `${n} face${n === 1 ? '' : 's'}`; }
function photoSummary(p) {
  if (p.status === 'queued') return 'waiting';
  if (p.status === 'busy') return 'recognising...';
  if (p.error) return `error: ${p.error}`;
  const fs = p.res.faces, labels = fs.slice(0, 3).map(f => `${f.label} ${pct(f.confidence)}`).join(', ');
  return fs.length ? `${faceWord(p.res.n_faces)}: ${labels}${fs.length > 3 ? ', ...' : ''}` : 'no face found';
}
function summaryText() {
  const done = S.photos.filter(p => p.status === 'done'), bad = S.photos.filter(p => p.error).length, counts = {};
  for (const p of done) for (const f of p.res.faces) counts[f.label] = (counts[f.label] || 0) + 1;
  const nf = Object.values(counts).reduce((a, b) => a + b, 0);
  const per = S.classes.filter(c => counts[c]).map(c => `${counts[c]} ${c}`).join(', ');
  return `${done.length} of ${S.photos.length} photo${S.photos.length === 1 ? '' : 's'} done, ${faceWord(nf)}` +
         (per ? ` (${per})` : '') + (bad ? `; ${bad} could not be read` : '') + '.';
}
function renderAll() { renderGrid(); renderDetail(); }
function renderGrid() {
  $('batch').hidden = !S.photos.length;
  for (const id of ['grid', 'all-h', 'summary']) $(id).hidden = S.photos.length < 2;
  $('summary').textContent = summaryText();
  const grid = $('grid');
  grid.replaceChildren(...S.photos.map((p, i) => el('li', {class: 'photo-item', 'data-status': p.status},
    el('button', {type: 'button', 'aria-current': i === S.current ? 'true' : 'false', onclick: () => { S.current = i; renderAll(); }},
      p.error ? el('span', {class: 'noimg', 'aria-hidden': 'true', text: 'not an image'}) : el('img', {src: p.url, alt: ''}),
      el('span', {class: 'name', text: p.name}), el('span', {class: 'sum', text: photoSummary(p)})))));
}
let shown = null;   // what the detail view shows, to redraw only when it changed
function renderDetail(force) {
  const p = S.photos[S.current], d = $('detail'), key = p && `${S.current}:${p.status}:${$('explain').checked}`;
  if (!force && key === shown) return;
  shown = key;
  d.replaceChildren();
  if (!p) return;
  const head = el('h3', {id: 'detail-h', text: p.name});
  if (p.error || !p.res) {
    d.append(el('article', {class: 'result', 'aria-labelledby': 'detail-h'}, head,
      el('p', {class: p.error ? 'err' : 'empty', text: p.error ? `Could not read this photo: ${p.error}` : 'Recognising...'})));
    return;
  }
  const res = p.res, faces = res.faces, show = $('explain').checked;
  const img = el('img', {src: p.url, alt: `${p.name}: ${photoSummary(p)}`});
  const maps = el('canvas', {class: 'maps', 'aria-hidden': 'true'});
  const stage = el('div', {class: 'stage'}, img, maps);
  const cards = el('ol', {class: 'cards', 'aria-label': `Faces in ${p.name}`});
  const pick = i => { const c = cards.children[i]; if (c) { c.focus(); c.scrollIntoView({block: 'nearest'}); } };
  faces.forEach((f, i) => stage.append(faceBox(f, i, res.width, res.height, pick)));
  const crops = faces.map((f, i) => {
    const cv = el('canvas', {width: 192, height: 192, role: 'img', 'aria-label': `Face ${i + 1} as the model saw it` + (show && f.saliency ? ', with where it looked' : '')});
    cards.append(el('li', {class: 'card face', tabindex: '0', 'data-face': i, 'data-label': f.label, style: `border-left-color:${color(f.label)}`},
      cv, el('div', {}, el('h4', {text: `${i + 1}. ${f.label} ${pct(f.confidence, 1)}`}), bars(f, i))));
    return cv;
  });
  link(stage, cards);
  const body = faces.length ? cards : el('p', {class: 'empty', text: 'No face found in this photo.'});
  d.append(el('article', {class: 'result', 'aria-labelledby': 'detail-h'}, head, stage, body));
  if (res.truncated) d.append(el('p', {class: 'empty', text: `Only the ${faces.length} most confident of ${res.n_faces} faces are shown.`}));
  const draw = async () => {
    const sx = img.naturalWidth / res.width, sy = img.naturalHeight / res.height;
    await Promise.all(crops.map((cv, i) => drawCrop(cv, img, faces[i], sx, sy, show)));
    const n = await drawMaps(maps, faces, res.width, res.height, show);
    d.dataset.drawn = `${key}:${n}`;
  };
  img.complete && img.naturalWidth ? draw() : img.addEventListener('load', draw, {once: true});
}
function link(stage, cards) {   // hovering, focusing or tapping a card highlights its box, and back
  const set = (i, on) => {
    for (const e of [stage.querySelector(`.box[data-face="${i}"]`), cards.querySelector(`.card[data-face="${i}"]`)]) if (e) e.classList.toggle('hi', on);
  };
  for (const e of [...stage.querySelectorAll('.box'), ...cards.querySelectorAll('.card')]) {
    const i = e.dataset.face;
    e.addEventListener('mouseenter', () => set(i, true)); e.addEventListener('mouseleave', () => set(i, false));
    e.addEventListener('focus', () => set(i, true)); e.addEventListener('blur', () => set(i, false));
  }
}

// ---- downloads (made in the browser) ----------------------------------------------------------------------------
function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], {type}));
  const a = el('a', {href: url, download: name});
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}
function resultsJSON() {
  const m = S.model || {};
  return JSON.stringify({model: {name: m.name, backend: m.backend, checkpoint: m.checkpoint, classes: m.classes}, created: new Date().toISOString(),
    photos: S.photos.map(p => p.res ? {file: p.name, ...p.res} : {file: p.name, error: p.error || p.status})}, null, 1);
}
const csvCell = v => { const s = v == null ? '' : String(v); return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; };
function resultsCSV() {   // fer_predict's faces.csv columns
  const rows = [['path', 'face', 'x0', 'y0', 'x1', 'y1', 'score', 'label', 'confidence', ...S.classes.map(c => `p_${c}`)]];
  for (const p of S.photos) if (p.res) p.res.faces.forEach((f, i) => rows.push([p.name, i, ...f.box, f.score, f.label, f.confidence, ...S.classes.map(c => f.probs[c])]));
  return rows.map(r => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

// ---- the webcam -------------------------------------------------------------------------------------------------
const cam = {stream: null, running: false, paused: false, done: [], lat: [], series: [], ema: null, frames: 0, lastFace: 0};
function camStatus(text, err) { $('cam-status').textContent = text; $('cam-status').classList.toggle('err', !!err); }
function camButtons() {
  $('cam-start').disabled = cam.running; $('cam-pause').disabled = $('cam-stop').disabled = !cam.running;
  $('cam-pause').textContent = cam.paused ? 'Resume' : 'Pause'; $('cam-pause').setAttribute('aria-pressed', String(cam.paused));
  document.body.dataset.cam = cam.running ? (cam.paused ? 'paused' : 'on') : 'off';
}
async function camStart() {
  if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
    camStatus('This browser gives no webcam access here (the page must be on localhost or https).', true); return;
  }
  camStatus('Asking for the camera...');
  try { cam.stream = await navigator.mediaDevices.getUserMedia({video: {width: {ideal: 640}, height: {ideal: 480}}, audio: false}); }
  catch (e) { camStatus(`No webcam: ${e.message || e.name}`, true); return; }
  const v = $('video'); v.srcObject = cam.stream;
  try { await v.play(); } catch (e) { /* autoplay of a muted stream is allowed; the loop waits for frames anyway */ }
  Object.assign(cam, {running: true, paused: false, done: [], lat: [], series: [], ema: null, frames: 0});
  $('live').hidden = false; camButtons(); camStatus('The webcam is on.');
  camLoop();
}
function camStop(why) {
  cam.running = false; cam.paused = false;
  if (cam.stream) for (const t of cam.stream.getTracks()) t.stop();
  cam.stream = null; $('video').srcObject = null;
  for (const b of $('cam-stage').querySelectorAll('.box')) b.remove();
  drawMaps($('cam-maps'), [], 1, 1, false);
  camButtons(); camStatus(why || 'The webcam is off; the camera is released.');
}
function camPause() {
  cam.paused = !cam.paused;
  cam.paused ? $('video').pause() : $('video').play().catch(() => {});
  camButtons(); camStatus(cam.paused ? 'Paused (the camera stays on until you stop).' : 'The webcam is on.');
}
async function camLoop() {
  const v = $('video'), c = el('canvas');
  while (cam.running) {
    if (cam.paused || !v.videoWidth) { await sleep(100); continue; }
    const t0 = performance.now(), k = Math.min(1, 640 / Math.max(v.videoWidth, v.videoHeight));
    c.width = Math.round(v.videoWidth * k); c.height = Math.round(v.videoHeight * k);
    c.getContext('2d').drawImage(v, 0, 0, c.width, c.height);
    const blob = await new Promise(ok => c.toBlob(ok, 'image/jpeg', 0.85));
    let res;
    try { res = await predict(blob, 'frame.jpg', $('explain').checked); }
    catch (e) { if (cam.running) camStatus(`The server did not answer a frame: ${e.message}`, true); await sleep(e.status === 503 ? 1000 : 500); continue; }
    if (!cam.running) break;
    const t1 = performance.now();
    cam.frames++; cam.done.push(t1); cam.lat.push(t1 - t0);
    if (cam.lat.length > 300) { cam.lat.shift(); cam.done.shift(); }
    showFrame(res, t1);
    await sleep(Math.max(0, MIN_GAP_MS - (performance.now() - t0)));   // one frame in flight; at most ~15 a second
  }
}
function showFrame(res, t) {
  const stage = $('cam-stage'), faces = res.faces;
  for (const b of stage.querySelectorAll('.box')) b.remove();
  faces.forEach((f, i) => stage.append(faceBox(f, i, res.width, res.height)));
  drawMaps($('cam-maps'), faces, res.width, res.height, $('explain').checked);
  const area = f => (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]);
  const main = faces.length ? faces.reduce((a, b) => area(b) > area(a) ? b : a) : null;
  if (main) {
    const p = S.classes.map(c => main.probs[c] || 0);
    cam.ema = cam.ema && t - cam.lastFace < 2000 ? cam.ema.map((e, k) => ALPHA * p[k] + (1 - ALPHA) * e) : p;
    cam.lastFace = t;
  }
  cam.series.push({t, p: main ? cam.ema.slice() : null});
  while (cam.series.length && cam.series[0].t < t - WINDOW_S * 1000) cam.series.shift();
  drawChart(t); stats(t, faces.length);
}
function stats(t, n) {
  const recent = cam.done.filter(x => x > t - 5000), lat = cam.lat.slice(-recent.length).sort((a, b) => a - b);
  const fps = recent.length > 1 ? (recent.length - 1) / ((recent[recent.length - 1] - recent[0]) / 1000) : 0;
  const med = lat.length ? lat[Math.floor(lat.length / 2)] : 0;
  const s = $('cam-stats');
  s.textContent = `${fps.toFixed(1)} frames/s, latency ${med.toFixed(0)} ms (median of the last 5 s), ${cam.frames} frames, ${faceWord(n)} in the last one`;
  Object.assign(s.dataset, {fps: fps.toFixed(2), latency: med.toFixed(1), frames: cam.frames});
}
function buildLegend() {
  $('legend').replaceChildren(...S.classes.map(c => el('li', {'data-class': c},
    el('span', {class: 'sw', 'aria-hidden': 'true', style: `background:${color(c)}`}), el('span', {class: 'lname', text: c}), ' ', el('span', {class: 'lval', text: '-'}))));
}
function drawChart(now) {
  const cv = $('chart'), dpr = window.devicePixelRatio || 1, W = Math.max(200, cv.clientWidth) * dpr, H = Math.max(120, cv.clientHeight) * dpr;
  if (cv.width !== W || cv.height !== H) { cv.width = W; cv.height = H; }
  const ctx = cv.getContext('2d'), fs = 12 * dpr, L = 40 * dpr, R = 10 * dpr, T = 8 * dpr, B = 22 * dpr;
  const X = t => L + (W - L - R) * (1 - (now - t) / (WINDOW_S * 1000)), Y = p => T + (H - T - B) * (1 - p);
  ctx.clearRect(0, 0, W, H); ctx.font = `${fs}px system-ui, sans-serif`; ctx.fillStyle = '#4a4a4a'; ctx.strokeStyle = '#dddddd'; ctx.lineWidth = dpr;
  for (const p of [0, 0.25, 0.5, 0.75, 1]) {
    ctx.beginPath(); ctx.moveTo(L, Y(p)); ctx.lineTo(W - R, Y(p)); ctx.stroke();
    ctx.textAlign = 'right'; ctx.textBaseline = 'middle'; ctx.fillText(pct(p), L - 4 * dpr, Y(p));
  }
  ctx.textAlign = 'center'; ctx.textBaseline = 'bottom';
  for (const s of [60, 30, 0]) ctx.fillText(s ? `-${s} s` : 'now', Math.min(W - R - 12 * dpr, Math.max(L + 12 * dpr, X(now - s * 1000))), H);
  ctx.lineWidth = 2 * dpr;
  S.classes.forEach((c, k) => {
    ctx.strokeStyle = color(c); ctx.beginPath(); let pen = false;
    for (const pt of cam.series) {
      if (!pt.p) { pen = false; continue; }
      pen ? ctx.lineTo(X(pt.t), Y(pt.p[k])) : ctx.moveTo(X(pt.t), Y(pt.p[k])); pen = true;
    }
    ctx.stroke();
  });
  const last = [...cam.series].reverse().find(pt => pt.p);
  for (const li of $('legend').children) {
    const k = S.classes.indexOf(li.dataset.class);
    li.querySelector('.lval').textContent = last ? pct(last.p[k]) : '-';
  }
  cv.setAttribute('aria-label', last ? 'Largest face now: ' + S.classes.map((c, k) => `${c} ${pct(last.p[k])}`).join(', ') : 'No face in view');
  cv.dataset.points = cam.series.filter(pt => pt.p).length;
}

// ---- wiring -----------------------------------------------------------------------------------------------------
function readEntries(entry) {   // the files of a dropped folder, recursively
  if (entry.isFile) return new Promise(ok => entry.file(f => { try { Object.defineProperty(f, 'webkitRelativePath', {value: entry.fullPath.replace(/^\//, '')}); } catch (e) { /* keep the name */ } ok([f]); }, () => ok([])));
  const rd = entry.createReader(), out = [];
  return new Promise(ok => {
    const more = () => rd.readEntries(async es => {
      if (!es.length) { ok((await Promise.all(out)).flat()); return; }
      out.push(...es.map(readEntries)); more();
    }, () => ok([]));
    more();
  });
}
function sameOrigin(s) {   // the URL of `s` if it is on this server, else null (browsers read '/\evil' as '//evil')
  if (s.includes('\\')) return null;
  try { const u = new URL(s, location.href); return u.origin === location.origin ? u.href : null; } catch (e) { return null; }
}
function wire() {
  $('file').addEventListener('change', e => { addFiles(e.target.files); e.target.value = ''; });
  $('folder').addEventListener('change', e => { addFiles(e.target.files); e.target.value = ''; });
  if (!('webkitdirectory' in $('folder'))) $('folder-label').hidden = true;
  const drop = $('drop');
  for (const t of ['dragenter', 'dragover']) drop.addEventListener(t, e => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', async e => {
    e.preventDefault(); drop.classList.remove('over');
    const entries = [...(e.dataTransfer.items || [])].map(i => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    addFiles(entries.some(x => x.isDirectory) ? (await Promise.all(entries.map(readEntries))).flat() : e.dataTransfer.files);
  });
  $('explain').addEventListener('change', () => {
    $('map-note').hidden = !$('explain').checked;
    if ($('explain').checked) for (const p of S.photos) if (p.res && p.res.faces.some(f => !f.saliency)) p.status = 'queued';
    S.photos.some(p => p.status === 'queued') ? runQueue() : renderDetail(true);
  });
  $('dl-json').addEventListener('click', () => download('fer_results.json', resultsJSON(), 'application/json'));
  $('dl-csv').addEventListener('click', () => download('fer_results.csv', resultsCSV(), 'text/csv'));
  $('clear').addEventListener('click', () => { for (const p of S.photos) URL.revokeObjectURL(p.url); S.photos = []; S.current = -1; renderAll(); setStatus(''); });
  $('cam-start').addEventListener('click', camStart);
  $('cam-pause').addEventListener('click', camPause);
  $('cam-stop').addEventListener('click', () => camStop());
  document.addEventListener('visibilitychange', () => { if (document.hidden && cam.running) camStop('The webcam was stopped because the tab was hidden; the camera is released.'); });
  window.addEventListener('pagehide', () => cam.running && camStop());
  camButtons();
}
async function fromSrc() {   // ?src=/same/origin/photo.jpg
  const src = new URLSearchParams(location.search).get('src');
  if (!src) return;
  const url = sameOrigin(src);
  if (!url) { setStatus('src must be a path on this server', true); document.body.dataset.state = 'error'; return; }
  try {
    let b = await (await fetch(url)).blob();
    if (!b.type.startsWith('image/')) b = new Blob([b], {type: 'image/jpeg'});
    b.name = url.split('/').pop().split('?')[0] || 'photo';
    addFiles([Object.assign(b, {name: b.name})]);
  } catch (e) { setStatus(`${src}: ${e.message}`, true); document.body.dataset.state = 'error'; }
}
wire();
loadModel().catch(e => { $('model').textContent = `Could not read the model information: ${e.message}`; })
  .finally(fromSrc);
})();
