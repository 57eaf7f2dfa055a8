import pytest
import torch

from mmrbvsr.apis import init_restorer
from mmrbvsr.checkpoint import extract_generator_state_dict, load_generator_weights
from tests.test_apis.conftest import tiny_generator


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                  b.state_dict().values()))


def test_released_layout_prefers_ema(tiny_checkpoint):
    generator = tiny_generator(seed=5)
    assert load_generator_weights(generator, tiny_checkpoint) == 'generator_ema.'
    assert same_weights(generator, tiny_generator(1))  # the EMA copy
    assert load_generator_weights(generator, tiny_checkpoint, prefer_ema=False) == 'generator.'
    assert same_weights(generator, tiny_generator(0))


def test_bare_and_ddp_state_dicts():
    source = tiny_generator(2).state_dict()
    for checkpoint in (dict(source), {'state_dict': {f'module.{k}': v for k, v in
                                                     source.items()}}):
        state, prefix = extract_generator_state_dict(checkpoint)
        assert prefix == '' and state.keys() == source.keys()
        generator = tiny_generator(3)
        load_generator_weights(generator, checkpoint)
        assert same_weights(generator, tiny_generator(2))


def test_mismatched_checkpoint_is_refused(tiny_checkpoint, tmp_path):
    from mmrbvsr.models.archs import RealBasicVSRNet
    bigger = RealBasicVSRNet(mid_channels=8, num_propagation_blocks=1, num_cleaning_blocks=2)
    with pytest.raises(ValueError, match=r'does not fit RealBasicVSRNet .*generator_ema.*'
                       r'missing .*shape mismatches.*Does the config match'):
        load_generator_weights(bigger, tiny_checkpoint)
    with pytest.raises(FileNotFoundError, match='nothing.pth'):
        load_generator_weights(bigger, tmp_path / 'nothing.pth')
    (tmp_path / 'junk.pth').write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match="'.*junk.pth' is not a PyTorch checkpoint"):
        load_generator_weights(bigger, tmp_path / 'junk.pth')


def test_checkpoint_from_url(tiny_config, tiny_checkpoint, tmp_path, monkeypatch):
    # A local HTTP server stands in for download.openmmlab.com.
    import functools
    import http.server
    import threading
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(tiny_checkpoint.parent))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setattr(torch.hub, '_hub_dir', None)
    try:
        url = f'http://127.0.0.1:{server.server_address[1]}/{tiny_checkpoint.name}'
        restorer = init_restorer(tiny_config, url, window=4, overlap=1)
    finally:
        server.shutdown()
    assert same_weights(restorer.generator, tiny_generator(1))
    assert any(p.name == tiny_checkpoint.name for p in (tmp_path / 'torch_home').rglob('*'))
