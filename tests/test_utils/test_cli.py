"""Command lines: tools/train.py and tools/test.py arguments, and the value parsers."""
import pytest
import torch
from mmengine.config import Config

from mmrbvsr.utils import cli
from mmrbvsr.utils.cli import (
    add_dump_results,
    load_config,
    parse_dtype,
    parse_out_size,
    train_parser,
)


@pytest.mark.parametrize('evaluator,expected', [
    (dict(type='Evaluator', metrics=[dict(type='PSNR')]), 'Evaluator'),
    (dict(type='PSNR'), list),
    ([dict(type='PSNR'), dict(type='SSIM')], list),
])
def test_out_dumps_through_every_evaluator_layout(evaluator, expected):
    cfg = Config(dict(test_evaluator=evaluator))
    add_dump_results(cfg, 'results.pkl')
    dumped = cfg.test_evaluator
    if expected == 'Evaluator':
        metrics = dumped['metrics']
    else:
        assert isinstance(dumped, list)
        metrics = dumped
    assert metrics[-1] == dict(type='DumpResults', out_file_path='results.pkl')
    assert metrics[0]['type'] == 'PSNR'


def test_out_errors_name_the_value():
    with pytest.raises(ValueError, match="'results.json'"):
        add_dump_results(Config(dict(test_evaluator=dict(type='PSNR'))), 'results.json')


def test_missing_config_is_named(tmp_path):
    args = train_parser().parse_args([str(tmp_path / 'nope.py')])
    with pytest.raises(FileNotFoundError, match='nope.py'):
        load_config(args)


def test_work_dir_priority(tmp_path):
    cfg_file = tmp_path / 'my_cfg.py'
    cfg_file.write_text("a = 1\n")
    args = cli.test_parser().parse_args([str(cfg_file), 'ckpt.pth'])
    assert load_config(args).work_dir.endswith('work_dirs/my_cfg')
    args = cli.test_parser().parse_args(
        [str(cfg_file), '--work-dir', str(tmp_path / 'w'), '--cfg-options', 'a=2'])
    cfg = load_config(args)
    assert cfg.work_dir == str(tmp_path / 'w') and cfg.a == 2


def test_parse_helpers():
    assert parse_out_size('1920x1080') == (1920, 1080)
    assert parse_out_size('-1x720') == (-1, 720)
    assert parse_out_size('1080p') == (-1, 1080)
    with pytest.raises(ValueError, match="'big'"):
        parse_out_size('big')
    assert parse_dtype('bf16', 'cpu') is torch.bfloat16


def test_on_data_error_reaches_every_training_loader(tmp_path):
    from pathlib import Path

    from mmrbvsr.utils.cli import set_data_error_policy
    cfg = Config.fromfile(str(Path(__file__).resolve().parents[2] / 'configs' / 'realbasicvsr' /
                              'realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py'))
    assert train_parser().parse_args(['x.py', '--on-data-error', 'skip']).on_data_error == \
        'skip'
    assert set_data_error_policy(cfg, 'skip') == 1
    loader = cfg.train_dataloader.dataset.pipeline[2]
    assert (loader['type'], loader['on_error']) == ('mmrbvsr.LoadImageFromFile', 'skip')
    # validation keeps stopping: another clip would be evaluated in its place
    assert all(t.get('on_error', 'raise') == 'raise' for t in cfg.val_dataloader.dataset.pipeline)
    with pytest.raises(ValueError, match='needs mmrbvsr.LoadImageFromFile'):
        set_data_error_policy(Config(dict(train_dataloader=dict(dataset=dict(
            pipeline=[dict(type='LoadImageFromFile')])))), 'skip')
