import json

import pytest

from mmrbvsr.engine.training_log import read_losses, write_loss_curves


def _run(tmp_path, name, rows):
    folder = tmp_path / name / '20260101_000000' / 'vis_data'
    folder.mkdir(parents=True)
    (folder / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in rows))
    return tmp_path / name


def test_reads_losses_and_skips_metric_lines(tmp_path):
    run = _run(tmp_path, 's1', [dict(iter=1, loss_pix=0.5, loss_clean=0.2, lr=1e-4),
                                dict(iter=2, loss_pix=0.4, loss_clean=0.1, lr=1e-4),
                                dict(PSNR=20.0, step=2)])
    assert read_losses(run) == dict(iter=[1.0, 2.0], loss_pix=[0.5, 0.4],
                                    loss_clean=[0.2, 0.1])


def test_writes_csv_and_png(tmp_path):
    a = _run(tmp_path, 's1', [dict(iter=1, loss_pix=0.5), dict(iter=2, loss_pix=0.4)])
    b = _run(tmp_path, 's2', [dict(iter=1, loss_pix=0.3, loss_gan=0.7)])
    paths = write_loss_curves([a, b], ['stage1', 'stage2'], tmp_path / 'out' / 'curves')
    rows = paths[0].read_text().splitlines()
    assert rows[0] == 'stage,iter,loss_gan,loss_pix'
    assert rows[1:] == ['stage1,1,,0.5', 'stage1,2,,0.4', 'stage2,1,0.7,0.3']
    assert paths[1].suffix == '.png' and paths[1].stat().st_size > 1000


def test_missing_run_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        read_losses(tmp_path)
