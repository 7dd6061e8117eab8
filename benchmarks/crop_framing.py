#!/usr/bin/env python
"""How FER-2013 frames its faces, measured with our default detector, and what that means for the crop margin (issue 13, item 5).

`Recognizer` crops each detected face as a square around the detector's box, widened by `margin` (a fraction of the box's
longer side) on every side, and resizes it to 48x48: the model was trained on FER-2013's 48x48 frames, so the crop should
frame a face the way FER-2013 does. This script measures that framing: it takes --n random faces of a split, upscales each
--scale times (bicubic), pads it with a border of --pad pixels of its own mean grey (so the detector sees the whole face with
context around it), runs the default detector (YuNet) and maps the box back to the 48x48 frame. For the faces found:
- per side, how far the frame's edge lies from the box, as a fraction of the box's longer side (what `margin` measures);
- the margin whose square equals the frame: (48 / longer side - 1) / 2, and the box centre's offset from the frame's centre;
- the pipeline's accuracy on those faces (upscaled, padded, detected and cropped as `Recognizer.predict` does) for each margin
  in --margins, next to the accuracy on the original 48x48 frames (`detect=False`, the model's own framing).

  python benchmarks/crop_framing.py                       # 500 PublicTest faces (the selection split), shipped model
  python benchmarks/crop_framing.py --n 1000 --margins 0.1 0.2 0.3
"""
from __future__ import annotations
import argparse, platform, time
import numpy as np

def framed(img:np.ndarray, scale:int, pad:int) -> np.ndarray:
    "A 48x48 grey face upscaled `scale` times (bicubic) and padded by `pad` pixels of its mean grey, as RGB."
    import cv2
    big = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=int(img.mean()))
    return np.repeat(big[..., None], 3, -1)

def q(a, p): return float(np.percentile(a, p))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--n', type=int, default=500, help='faces sampled from the split')
    ap.add_argument('--split', default='val', help="FaceData subset: val (PublicTest, where settings are chosen), test (PrivateTest), train...")
    ap.add_argument('--scale', type=int, default=4, help='upscaling factor (4: 192 px faces)')
    ap.add_argument('--pad', type=int, default=96, help='border in pixels around the upscaled face')
    ap.add_argument('--margins', type=float, nargs='+', default=[0.0, 0.1, 0.2, 0.3], help='crop margins to score')
    ap.add_argument('--checkpoint', help='model for the accuracies; default: the shipped one')
    ap.add_argument('--data', help='FER-2013 archive or folder; default: found as fer_eval finds it')
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    import torch
    from fer_nbdev.core import find_fer2013
    from fer_nbdev.data import load_faces
    from fer_nbdev.detect import face_crops
    from fer_nbdev.predict import predict_proba
    from fer_nbdev.recognize import Recognizer
    torch.set_num_threads(2)
    d = load_faces(find_fer2013(args.data)).subset(args.split)
    idx = np.sort(np.random.default_rng(args.seed).choice(len(d), min(args.n, len(d)), replace=False))
    imgs, labels = d.images[idx].numpy(), d.labels[idx].numpy()
    rec = Recognizer(args.checkpoint, device='cpu')
    t = time.perf_counter()
    found, boxes, photos = [], [], []
    for i, img in enumerate(imgs):
        photo = framed(img, args.scale, args.pad)
        fs = rec.detector(photo)
        if not fs: continue
        f = max(fs, key=lambda f: f['score'])                       # one face per FER image
        found.append(i); boxes.append(f); photos.append(photo)
    secs = time.perf_counter() - t
    b = np.array([[(v - args.pad) / args.scale for v in f['box']] for f in boxes])   # in the 48x48 frame
    side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    left, top, right, bottom = b[:, 0] / side, b[:, 1] / side, (48 - b[:, 2]) / side, (48 - b[:, 3]) / side
    equiv = (48 / side - 1) / 2
    cx, cy = (b[:, 0] + b[:, 2]) / 2 - 24, (b[:, 1] + b[:, 3]) / 2 - 24
    print(f"fer_nbdev crop framing: {len(imgs)} FER-2013 {args.split} faces (seed {args.seed}), x{args.scale} bicubic + {args.pad} px "
          f"mean-grey border; detector {rec.detector_name or 'yunet'}; {platform.processor() or platform.machine()}, torch threads 2")
    print(f"faces found: {len(found)} of {len(imgs)} ({100 * len(found) / len(imgs):.1f}%), {1000 * secs / len(imgs):.0f} ms per image\n")
    print("| measure (fraction of the box's longer side, unless px) | median | 25% | 75% |")
    print("|---|---:|---:|---:|")
    for name, a in [('frame edge beyond the box: left', left), ('... top', top), ('... right', right), ('... bottom', bottom),
                    ('margin whose square is the 48x48 frame', equiv), ("box's longer side (px of 48)", side),
                    ('box centre right of frame centre (px)', cx), ('box centre below frame centre (px)', cy)]:
        print(f"| {name} | {q(a, 50):.3f} | {q(a, 25):.3f} | {q(a, 75):.3f} |")
    y = labels[found]
    p0 = predict_proba(rec.model, torch.from_numpy(imgs[found]), tta=rec.tta, device='cpu')
    print(f"\naccuracy on the {len(found)} faces found ({rec.tta} TTA):\n")
    print("| crops | accuracy |\n|---|---:|")
    print(f"| original 48x48 frames (detect=False) | {float((p0.argmax(1).numpy() == y).mean()):.4f} |")
    for m in args.margins + [round(float(np.median(equiv)), 3)]:
        crops = torch.cat([face_crops(ph, [f], rec.input_size, margin=m) for ph, f in zip(photos, boxes)])
        p = predict_proba(rec.model, crops, tta=rec.tta, device='cpu')
        print(f"| detected, margin {m}{' (the measured median)' if m == round(float(np.median(equiv)), 3) else ''} | "
              f"{float((p.argmax(1).numpy() == y).mean()):.4f} |")

if __name__ == '__main__': main()
