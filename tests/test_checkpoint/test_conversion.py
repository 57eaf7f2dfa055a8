"""Checkpoint conversion (mmrbvsr/checkpoint/conversion.py) and tools/convert_checkpoint.py."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from mmagic.models.editors.basicvsr.basicvsr_net import BasicVSRNet as MMagicBasicVSRNet
from mmagic.models.editors.basicvsr.basicvsr_net import SPyNet as MMagicSPyNet
from mmengine.logging import HistoryBuffer
from mmengine.runner import load_checkpoint

from mmrbvsr.checkpoint import (
    convert_basicvsr_state_dict,
    convert_checkpoint,
    extract_spynet_state_dict,
    unwrap_state_dict,
)
from mmrbvsr.models.archs import BasicVSRNet, RealBasicVSRNet, SPyNet

REPO = Path(__file__).resolve().parents[2]


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'convert_checkpoint_tool', REPO / 'tools' / 'convert_checkpoint.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reds4_conversion(reds4_weights, reds4_converted):
    source = torch.load(reds4_weights)['params']
    result = convert_basicvsr_state_dict(source)
    assert (result.layout, result.prefix, result.architecture) == ('basicsr', '', 'BasicVSRNet')
    assert (result.mid_channels, result.num_blocks, result.upscale_factor) == (64, 30, 4)
    assert result.unmatched == [] and len(result.state_dict) == len(source) == 316
    assert torch.equal(result.state_dict['upsample1.upsample_conv.weight'],
                       source['upconv1.weight'])
    assert torch.equal(result.state_dict['spynet.basic_module.3.basic_module.4.conv.bias'],
                       source['spynet.basic_module.3.basic_module.8.bias'])

    # both files load strictly: the net into ours and MMagic's, the SPyNet into both SPyNets
    net_file, spynet_file = map(str, reds4_converted)
    for model in (BasicVSRNet(num_blocks=30), MMagicBasicVSRNet(num_blocks=30)):
        load_checkpoint(model, net_file, strict=True)
        assert torch.equal(model.backward_resblocks.main[2][29].conv2.weight,
                           source['backward_trunk.main.2.29.conv2.weight'])
    for spynet in (SPyNet(spynet_file), MMagicSPyNet(spynet_file)):
        assert torch.equal(spynet.basic_module[5].basic_module[4].conv.weight,
                           source['spynet.basic_module.5.basic_module.8.weight'])
    net = RealBasicVSRNet(num_propagation_blocks=1, num_cleaning_blocks=1,
                          spynet_pretrained=spynet_file)
    assert torch.equal(net.basicvsr.spynet.basic_module[0].basic_module[0].conv.weight,
                       source['spynet.basic_module.0.basic_module.0.weight'])


def test_runner_checkpoint_of_a_realbasicvsr(tmp_path):
    """A Runner checkpoint with generator, EMA generator and discriminator."""
    torch.manual_seed(0)
    gen, ema = (RealBasicVSRNet(16, 2, 3) for _ in range(2))
    state = {f'generator.{k}': v for k, v in gen.state_dict().items()}
    state.update({f'generator_ema.{k}': v for k, v in ema.state_dict().items()})
    state['discriminator.conv_0.weight'] = torch.zeros(1)
    state['generator_ema.basicvsr.extra.weight'] = torch.zeros(1)
    buffer = HistoryBuffer()
    buffer.update(np.float64(1.5))
    torch.save({'meta': {'epoch': 0}, 'state_dict': state, 'message_hub': {'loss': buffer},
                'optimizer': {}}, tmp_path / 'iter_10.pth')

    result, report = convert_checkpoint(str(tmp_path / 'iter_10.pth'), str(tmp_path / 'g.pth'))
    text = '\n'.join(report)
    assert 'Runner checkpoint' in text and "'state_dict'" in text
    assert (result.architecture, result.prefix, result.layout) == \
        ('RealBasicVSRNet', 'generator_ema.', 'mmagic')
    assert (result.mid_channels, result.num_blocks, result.num_cleaning_blocks) == (16, 2, 3)
    assert result.unmatched == ['generator_ema.basicvsr.extra.weight']
    assert 'generator.basicvsr.' in result.ignored_prefixes
    assert 'extra.weight' in text and 'loads into RealBasicVSRNet with strict=True' in text

    net = RealBasicVSRNet(16, 2, 3)
    load_checkpoint(net, str(tmp_path / 'g.pth'), strict=True)
    for key, value in ema.state_dict().items():
        assert torch.equal(net.state_dict()[key], value), key
    with pytest.raises(ValueError, match='extra.weight'):
        convert_checkpoint(str(tmp_path / 'iter_10.pth'), str(tmp_path / 'g.pth'), strict=True)
    result, _ = convert_checkpoint(str(tmp_path / 'iter_10.pth'), prefix='generator.basicvsr.')
    assert result.prefix == 'generator.'
    assert torch.equal(result.state_dict['image_cleaning.1.weight'],
                       gen.state_dict()['image_cleaning.1.weight'])


def test_containers_and_bad_files(tmp_path):
    state = BasicVSRNet(8, 1).state_dict()
    assert unwrap_state_dict(state)[1] == 'bare state dict'
    assert "'params'" in unwrap_state_dict({'params': state, 'params_ema': state})[1]
    assert unwrap_state_dict({'params': state, 'params_ema': state}, 'params_ema')[0] is state
    with pytest.raises(KeyError, match='params_ema'):
        unwrap_state_dict({'params': state}, 'params_ema')
    with pytest.raises(ValueError, match='found no state dict.*net'):
        unwrap_state_dict({'net': 3})
    with pytest.raises(ValueError, match='no BasicVSR weights.*conv.weight'):
        convert_basicvsr_state_dict({'conv.weight': torch.zeros(1)})
    with pytest.raises(ValueError, match='no SPyNet'):
        extract_spynet_state_dict({'fusion.weight': torch.zeros(1)})

    # an x2 BasicVSR in our layout: only its upscale factor is new
    torch.save(BasicVSRNet(8, 1, upscale_factor=2).state_dict(), tmp_path / 'x2.pth')
    result, report = convert_checkpoint(str(tmp_path / 'x2.pth'), strict=True)
    assert result.upscale_factor == 2 and 'bare state dict' in report[0]


def test_tool(reds4_weights, reds4_converted, tmp_path, capsys):
    tool = load_tool()
    tool.main([str(reds4_weights), '--spynet-out',
               str(tmp_path / 'spynet.pth'), '--strict'])
    out = capsys.readouterr().out
    assert "state dict under key 'params'" in out and 'basicsr layout' in out
    assert 'num_blocks=30' in out and 'wrote SPyNet (60 tensors)' in out
    assert torch.equal(torch.load(tmp_path / 'spynet.pth')['state_dict']['basic_module.0.'
                                                                         'basic_module.0.conv.bias'],
                       torch.load(reds4_converted[1])['state_dict']['basic_module.0.'
                                                                    'basic_module.0.conv.bias'])
    with pytest.raises(SystemExit, match='no BasicVSR weights'):
        torch.save({'state_dict': {'a.weight': torch.zeros(1)}}, tmp_path / 'other.pth')
        tool.main([str(tmp_path / 'other.pth'), '--out', str(tmp_path / 'x.pth')])
    with pytest.raises(SystemExit):
        tool.main([str(tmp_path / 'other.pth')])  # nothing to write
