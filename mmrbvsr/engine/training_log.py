"""Loss curves from the scalars MMEngine's ``LocalVisBackend`` writes during training."""
import csv
import json
from pathlib import Path
from typing import Dict, List, Sequence, Union

PathLike = Union[str, Path]


def find_scalars(work_dir: PathLike) -> Path:
    """The newest ``<work_dir>/<timestamp>/vis_data/scalars.json`` of a run."""
    found = sorted(Path(work_dir).glob('*/vis_data/scalars.json'))
    if not found:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {work_dir!s}: is it the '
                                'work dir of a training run with LocalVisBackend?')
    return found[-1]


def read_losses(work_dir: PathLike) -> Dict[str, List[float]]:
    """Training scalars whose name contains ``loss`` (and ``iter``), one list per key."""
    series: Dict[str, List[float]] = {}
    for line in find_scalars(work_dir).read_text().splitlines():
        row = json.loads(line)
        if 'iter' not in row or not any('loss' in k for k in row):
            continue  # validation metrics lines
        for key, value in row.items():
            if 'loss' in key or key == 'iter':
                series.setdefault(key, []).append(float(value))
    return series


def write_loss_curves(work_dirs: Sequence[PathLike], names: Sequence[str],
                      out_prefix: PathLike) -> List[Path]:
    """Writes ``<out_prefix>.csv`` (stage, iter, losses) and ``<out_prefix>.png`` if
    matplotlib is installed; returns the written paths."""
    if len(work_dirs) != len(names):
        raise ValueError(f'{len(work_dirs)} work dirs but {len(names)} names')
    runs = [(name, read_losses(d)) for d, name in zip(work_dirs, names)]
    keys = sorted({k for _, s in runs for k in s if k != 'iter'})
    out_prefix = Path(out_prefix)
    out_prefix.parent.mkdir(parents=True, exist_ok=True)
    written = [out_prefix.with_suffix('.csv')]
    with open(written[0], 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['stage', 'iter', *keys])
        for name, series in runs:
            for i, it in enumerate(series['iter']):
                writer.writerow([name, int(it)] + [
                    f'{series[k][i]:.6g}' if k in series and i < len(series[k]) else ''
                    for k in keys])
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        return written
    fig, axes = plt.subplots(1, len(runs), figsize=(6 * len(runs), 4), squeeze=False)
    for ax, (name, series) in zip(axes[0], runs):
        for key in sorted(k for k in series if k != 'iter'):
            ax.plot(series['iter'][:len(series[key])], series[key], label=key)
        ax.set(title=name, xlabel='iteration', ylabel='loss', yscale='log')
        ax.legend(fontsize=8)
    fig.tight_layout()
    written.append(out_prefix.with_suffix('.png'))
    fig.savefig(written[-1], dpi=100)
    plt.close(fig)
    return written
