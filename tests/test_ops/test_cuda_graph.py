"""CUDA-graph replay of the propagation step: the same output as eager, fewer launches.

The replay tests need a GPU (they ran on the lent H100/H200, see docs/benchmarks.md);
the CPU tests check that nothing changes without one.
"""
import copy
import pickle

import pytest
import torch

from mmrbvsr.models.archs import BasicVSRNet, RealBasicVSRNet
from mmrbvsr.ops.cuda_graph import GraphCache, graphed_call, graphs_usable

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')


def small_net(cuda_graphs: bool = True, parallel_branches=None) -> RealBasicVSRNet:
    torch.manual_seed(0)
    return RealBasicVSRNet(mid_channels=16, num_propagation_blocks=2, num_cleaning_blocks=2,
                           cuda_graphs=cuda_graphs,
                           parallel_branches=parallel_branches).eval()


def test_cuda_graphs_argument_and_cache_copies():
    with pytest.raises(TypeError, match='cuda_graphs'):
        BasicVSRNet(mid_channels=8, num_blocks=1, cuda_graphs='yes')
    assert not small_net(cuda_graphs=False).basicvsr.cuda_graphs
    cache = GraphCache(a=1)
    assert copy.deepcopy(cache) == {} and isinstance(copy.deepcopy(cache), GraphCache)
    assert pickle.loads(pickle.dumps(cache)) == {}
    net = small_net()
    net.basicvsr._graphs['x'] = object()  # a graph could not be copied
    assert copy.deepcopy(net).basicvsr._graphs == {}


def test_no_graphs_on_cpu_or_with_autograd():
    x = torch.rand(1, 3, 8, 8)
    assert not graphs_usable(x)
    net = small_net()
    clip = torch.rand(1, 4, 3, 32, 32)
    with torch.no_grad():
        out = net(clip)
    assert net.basicvsr._graphs == {}
    net.basicvsr.cuda_graphs = False
    with torch.no_grad():
        assert torch.equal(out, net(clip))


@cuda
@pytest.mark.parametrize('parallel', [False, True])
@pytest.mark.parametrize('amp', [None, torch.bfloat16, torch.float16])
def test_graph_replay_equals_eager(amp, parallel):
    torch.manual_seed(1)
    clip = torch.rand(1, 6, 3, 64, 96, device='cuda')
    clip_b = torch.rand(2, 5, 3, 64, 64, device='cuda')
    graphed = small_net(parallel_branches=parallel).cuda()
    eager = small_net(cuda_graphs=False, parallel_branches=parallel).cuda()
    with torch.no_grad(), torch.autocast('cuda', amp or torch.float32, enabled=amp is not None):
        for x in (clip, clip_b, clip):  # a new shape captures anew; the first one replays
            assert torch.equal(graphed(x), eager(x))
    # propagation with and without flow, for two shapes: per branch, or both branches in
    # one step; reconstruction of 2 frames (clip), of 2 and of 1 frame (clip_b); SPyNet
    # once per shape (all pairs in one batch)
    names = [key[0] for key in graphed.basicvsr._graphs]
    assert names.count('reconstruct') == 3 and names.count('spynet') == 2
    assert len(names) - 5 == (4 if parallel else 8)
    with torch.no_grad():  # an fp32 call after bf16/fp16 ones: a capture of its own
        assert torch.equal(graphed(clip), eager(clip))


@cuda
def test_graph_follows_weights_and_is_off_with_autograd():
    net = small_net().cuda()
    clip = torch.rand(1, 4, 3, 64, 64, device='cuda')
    with torch.no_grad():
        before = net(clip)
        for p in net.basicvsr.forward_resblocks.parameters():
            p.mul_(1.5)  # in place: the graph reads the new values
        changed = net(clip)
    assert not torch.equal(before, changed)
    net.basicvsr.cuda_graphs = False
    with torch.no_grad():
        assert torch.equal(changed, net(clip))
    net.basicvsr.cuda_graphs = True
    net.basicvsr._graphs.clear()
    out = net(clip)  # autograd: eager
    assert net.basicvsr._graphs == {} and out.requires_grad
    moved = net.double()  # new storages: captured anew
    with torch.no_grad():
        moved(clip.double())
    # SPyNet; both branches in one step (the default), with and without flow; 4 frames
    # reconstructed
    assert len(moved.basicvsr._graphs) == 4


@cuda
def test_parallel_branches_match_in_turn_on_cuda():
    """Grouped cuDNN convs against two separate ones: fp32 (no TF32) to 1e-5, bf16 close."""
    clip = torch.rand(2, 7, 3, 64, 64, device='cuda')
    nets = [small_net(parallel_branches=p).cuda() for p in (False, True)]
    tf32 = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        with torch.no_grad():
            outs = [net(clip) for net in nets]
        assert (outs[0] - outs[1]).abs().max() <= 1e-5
        for net in nets:  # training: both give the same gradients
            net.train()
            net(clip).square().mean().backward()
        for (name, a), b in zip(nets[0].named_parameters(), nets[1].parameters()):
            if a.grad is not None:
                assert (a.grad - b.grad).abs().max() <= 1e-3 * a.grad.abs().max() + 1e-7, name
    finally:
        torch.backends.cudnn.allow_tf32 = tf32
    with torch.no_grad(), torch.autocast('cuda', torch.bfloat16):
        outs = [net.eval()(clip).float() for net in nets]
    assert (outs[0] - outs[1]).abs().max() <= 0.05


@cuda
def test_graphed_call_returns_fresh_tensors():
    cache = GraphCache()
    weight = torch.randn(8, 8, device='cuda')

    def fn(x):
        return torch.relu(x @ weight)

    with torch.no_grad():
        a = graphed_call(cache, 'f', fn, [weight], torch.randn(4, 8, device='cuda'))
        x = torch.randn(4, 8, device='cuda')
        b = graphed_call(cache, 'f', fn, [weight], x)
    assert len(cache) == 1 and a.data_ptr() != b.data_ptr()
    assert torch.equal(b, fn(x)) and not torch.equal(a, b)


@cuda
def test_graphs_sharing_a_pool_in_any_order():
    """Graphs of one cache share a memory pool: replays in any order, of graphs captured
    in any order, each return what eager calls do."""
    cache = GraphCache()
    weight = torch.randn(64, 64, device='cuda')

    def f(x):  # intermediates that a later capture may take over
        return torch.relu(x @ weight) @ weight + 1

    def g(x):
        return torch.tanh(x @ weight.t()) * 2

    xs = {name: [torch.randn(256, 64, device='cuda') for _ in range(3)] for name in 'fg'}
    fns = {'f': f, 'g': g}
    with torch.no_grad():
        outs = []
        for name in 'fgfggf':
            x = xs[name][len(outs) % 3]
            outs.append((graphed_call(cache, name, fns[name], [weight], x), fns[name](x)))
    assert len(cache) == 2
    for graphed, eager in outs:
        assert torch.equal(graphed, eager)


@cuda
def test_spynet_graphed_equals_eager():
    net = small_net().cuda()
    ref, supp = (torch.rand(5, 3, 70, 90, device='cuda') for _ in range(2))
    with torch.no_grad():
        eager = net.basicvsr.spynet(ref, supp)
        for _ in range(2):  # capture, replay
            assert torch.equal(net.basicvsr.flow(ref, supp), eager)
    assert [key[0] for key in net.basicvsr._graphs] == ['spynet']
