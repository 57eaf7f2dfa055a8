"""A small demo training set from the real photographs scikit-image ships.

Each photograph becomes short clips by moving a virtual camera over it (smooth random
translation, slight zoom and rotation), rendered with sub-pixel bicubic warps. Nothing is
downloaded: the images are read from the installed ``skimage/data`` folder.

Layout written by :func:`prepare_demo_data` (frames are ``%08d.png``)::

    root/train/<clip>/        GT clips (REDS-like, for BasicFramesDataset + degradations)
    root/val/GT/<clip>/       held-out GT clips
    root/val/BIx4/<clip>/     their bicubic x4 downsampling (UDM10-like)
    root/test/LQ/<clip>/      a held-out clip degraded by blur, x4 down, noise and JPEG
"""
import json
import os.path as osp
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

# GT crop side of the demo configs: LQ crops of 32x32, the smallest input SPyNet takes
DEMO_GT_SIZE = 128
TRAIN_IMAGES = ('astronaut.png', 'chelsea.png', 'motorcycle_left.png', 'hubble_deep_field.jpg',
                'ihc.png', 'retina.jpg', 'brick.png', 'grass.png', 'gravel.png')
HELD_OUT_IMAGES = ('coffee.png', 'rocket.jpg')


def skimage_data_dir() -> Path:
    """The folder of sample images inside the installed scikit-image."""
    try:
        import skimage.data
    except ImportError as err:
        raise ImportError('the demo data set needs scikit-image (pip install scikit-image)') \
            from err
    return Path(osp.dirname(skimage.data.__file__))


def load_photo(name: str) -> np.ndarray:
    """Reads a scikit-image sample photograph as an RGB uint8 (H, W, 3) array."""
    import cv2
    path = skimage_data_dir() / name
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)  # gray files come back as 3 channels
    if img is None:
        raise FileNotFoundError(f'scikit-image sample image not found: {path}')
    return img[..., ::-1].copy()


def camera_path(num_frames: int, rng: np.random.Generator, max_speed: float = 3.0,
                max_zoom_step: float = 0.01,
                max_rotation_step: float = 0.5) -> List[Tuple[float, float, float, float]]:
    """A smooth random camera path: per frame ``(dx, dy, zoom, angle in degrees)``.

    The velocity is drawn once and then drifts a little each frame (hand-held camera).
    """
    vel = rng.uniform(-max_speed, max_speed, size=2)
    zoom_step = rng.uniform(-max_zoom_step, max_zoom_step)
    rot_step = rng.uniform(-max_rotation_step, max_rotation_step)
    pos, zoom, angle, path = np.zeros(2), 1.0, 0.0, []
    for _ in range(num_frames):
        path.append((float(pos[0]), float(pos[1]), zoom, angle))
        vel = vel + rng.normal(0, 0.3, size=2)
        pos, zoom, angle = pos + vel, zoom * (1 + zoom_step), angle + rot_step
    return path


def render_clip(photo: np.ndarray, size: int, num_frames: int,
                rng: np.random.Generator) -> List[np.ndarray]:
    """Films ``photo`` with a moving ``size x size`` camera: a list of RGB uint8 frames."""
    import cv2
    h, w = photo.shape[:2]
    margin = size // 2 + 4 * num_frames + 8  # keeps the window inside the photo
    if min(h, w) < 2 * margin:
        scale = 2 * margin / min(h, w)
        photo = cv2.resize(photo, (int(np.ceil(w * scale)), int(np.ceil(h * scale))),
                           interpolation=cv2.INTER_CUBIC)
        h, w = photo.shape[:2]
    cx, cy = rng.uniform(margin, w - margin), rng.uniform(margin, h - margin)
    frames = []
    for dx, dy, zoom, angle in camera_path(num_frames, rng):
        center = (float(np.clip(cx + dx, size, w - size)), float(np.clip(cy + dy, size, h - size)))
        mat = cv2.getRotationMatrix2D(center, angle, zoom)
        mat[:, 2] += np.array([size / 2, size / 2]) - np.array(center)
        frames.append(cv2.warpAffine(photo, mat, (size, size), flags=cv2.INTER_CUBIC,
                                     borderMode=cv2.BORDER_REFLECT))
    return frames


def bicubic_down(frame: np.ndarray, scale: int = 4) -> np.ndarray:
    """Anti-aliased bicubic downsampling (close to MATLAB ``imresize``), uint8 RGB."""
    import torch
    import torch.nn.functional as F
    x = torch.from_numpy(frame).permute(2, 0, 1)[None].float()
    h, w = frame.shape[:2]
    y = F.interpolate(x, size=(h // scale, w // scale), mode='bicubic', antialias=True,
                      align_corners=False)
    return y[0].permute(1, 2, 0).round().clamp(0, 255).byte().numpy()


def degrade(frames: Sequence[np.ndarray], rng: np.random.Generator,
            scale: int = 4) -> List[np.ndarray]:
    """A fixed real-world-like degradation: blur, x4 area downsampling, noise, JPEG."""
    import cv2
    sigma, noise, quality = rng.uniform(0.8, 1.6), rng.uniform(3, 8), int(rng.integers(35, 60))
    out = []
    for frame in frames:
        x = cv2.GaussianBlur(frame.astype(np.float32), (0, 0), sigma)
        h, w = x.shape[:2]
        x = cv2.resize(x, (w // scale, h // scale), interpolation=cv2.INTER_AREA)
        x = np.clip(x + rng.normal(0, noise, x.shape), 0, 255).round().astype(np.uint8)
        ok, buf = cv2.imencode('.jpg', x[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        out.append(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy())
    return out


def write_frames(frames: Sequence[np.ndarray], folder: Path) -> None:
    """Writes RGB frames as ``folder/%08d.png``."""
    import cv2
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f'{i:08d}.png'), frame[..., ::-1])


def prepare_demo_data(root: str,
                      clips_per_image: int = 2,
                      num_frames: int = 10,
                      size: int = 128,
                      num_val_frames: int = 6,
                      seed: int = 0) -> Dict[str, int]:
    """Writes the demo data set under ``root`` (see the module docstring).

    Args:
        root (str): Output folder.
        clips_per_image (int): Training clips per training photograph. Default: 2.
        num_frames (int): Frames per training clip. Default: 10.
        size (int): GT frame size (square, divisible by 4). Default: 128.
        num_val_frames (int): Frames per held-out clip. Default: 6.
        seed (int): Seed of the camera paths and degradations. Default: 0.

    Returns:
        dict: Numbers of train, val and test clips.
    """
    if size % 4 or size < 32:
        raise ValueError(f'size must be a multiple of 4 and >= 32, got {size}')
    if clips_per_image < 1 or num_frames < 2 or num_val_frames < 2:
        raise ValueError(f'need clips_per_image >= 1 and >= 2 frames, got {clips_per_image}, '
                         f'{num_frames}, {num_val_frames}')
    rng = np.random.default_rng(seed)
    out = Path(root)
    n_train = 0
    for name in TRAIN_IMAGES:
        photo = load_photo(name)
        for _ in range(clips_per_image):
            clip = render_clip(photo, size, num_frames, rng)
            write_frames(clip, out / 'train' / f'{n_train:03d}')
            n_train += 1
    for i, name in enumerate(HELD_OUT_IMAGES):
        gt = render_clip(load_photo(name), size, num_val_frames, rng)
        write_frames(gt, out / 'val' / 'GT' / f'{i:03d}')
        write_frames([bicubic_down(f) for f in gt], out / 'val' / 'BIx4' / f'{i:03d}')
    test_gt = render_clip(load_photo(HELD_OUT_IMAGES[0]), size * 2, num_val_frames, rng)
    write_frames(degrade(test_gt, rng), out / 'test' / 'LQ' / '000')
    write_frames(test_gt, out / 'test' / 'GT' / '000')
    summary = dict(train=n_train, val=len(HELD_OUT_IMAGES), test=1, frames=num_frames,
                   size=size, seed=seed)
    (out / 'demo_data.json').write_text(json.dumps(summary, indent=1))
    return summary


def check_training_size(size: int, crop: int = DEMO_GT_SIZE) -> None:
    """Raises unless frames of ``size`` can be trained on by the demo configs.

    Their GT crops are ``crop`` pixels (LQ ``crop / 4``; the generator needs LQ frames of at
    least 32x32), so smaller frames could only fail later, at the first iteration.

    Raises:
        ValueError: Naming both sizes and the smallest ``--size`` that works.
    """
    if size < crop:
        raise ValueError(f'--size {size} is too small for the demo configs, which crop '
                         f'{crop}x{crop} GT patches (LQ {crop // 4}x{crop // 4}, the smallest '
                         f'input the generator takes): use --size {crop} or more')


def resize_pipeline(pipeline: Sequence, gt_size: int, scale: int = 4) -> list:
    """A copy of a training pipeline with GT crops of ``gt_size`` and LQ of ``gt_size/scale``.

    Changes every ``FixedCrop``/``PairedRandomCrop`` ``crop_size`` and every ``target_size``
    in transform ``params``, also inside nested ``degradations`` lists.

    Args:
        pipeline (list): Transform configs (e.g. ``train_pipeline`` of
            ``configs/_base_/realbasicvsr_pipeline.py``).
        gt_size (int): GT crop size, divisible by ``scale``.
        scale (int): Upsampling factor. Default: 4.

    Returns:
        list: The modified deep copy.
    """
    import copy
    if gt_size % scale:
        raise ValueError(f'gt_size {gt_size} is not divisible by the scale {scale}')
    lq = gt_size // scale

    def visit(node):
        if isinstance(node, (list, tuple)):
            return [visit(n) for n in node]
        if not isinstance(node, dict):
            return node
        node = copy.deepcopy(node)
        if str(node.get('type', '')).split('.')[-1] in ('FixedCrop', 'PairedRandomCrop'):
            node['crop_size'] = (gt_size, gt_size)
        if isinstance(node.get('params'), dict) and 'target_size' in node['params']:
            node['params']['target_size'] = (lq, lq)
        if 'degradations' in node:
            node['degradations'] = visit(node['degradations'])
        return node

    return visit(list(pipeline))
