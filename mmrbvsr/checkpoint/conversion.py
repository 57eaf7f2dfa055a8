"""Converting BasicVSR / RealBasicVSR weights in other layouts to ours.

Our layout is MMagic's: ``BasicVSRNet`` keys such as ``backward_resblocks.main.0.weight``
and ``spynet.basic_module.0.basic_module.0.conv.weight``. BasicSR's ``BasicVSR`` names
the same tensors ``backward_trunk.*``, ``upconv{1,2}.*`` and ``...basic_module.{0,2,4,6,8}``.
``tools/convert_checkpoint.py`` is the command line over this module.
"""
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

import torch

from .loading import StateDict, check_against_model, load_checkpoint_file, unwrap_state_dict

# BasicSR BasicVSR -> MMagic BasicVSRNet, applied to the key after its prefix
_BASICSR_RENAMES = (
    (re.compile(r'^backward_trunk\.'), 'backward_resblocks.'),
    (re.compile(r'^forward_trunk\.'), 'forward_resblocks.'),
    (re.compile(r'^upconv([12])\.'), r'upsample\1.upsample_conv.'),
    # nn.Sequential(conv, ReLU, ...) -> ConvModules (conv inside), one per conv
    (re.compile(r'^spynet\.basic_module\.(\d+)\.basic_module\.([02468])\.(weight|bias)$'), None),
)
_UNCHANGED = re.compile(r'^(spynet\.(mean|std)|fusion\.(weight|bias)|conv_hr\.(weight|bias)|'
                        r'conv_last\.(weight|bias))$')
_MMAGIC_KEY = re.compile(
    r'^(spynet\.(mean|std|basic_module\.\d+\.basic_module\.\d\.conv\.(weight|bias))|'
    r'(backward|forward)_resblocks\.main\.(0|2\.\d+\.conv[12])\.(weight|bias)|'
    r'fusion\.(weight|bias)|upsample[12]\.upsample_conv\.(weight|bias)|'
    r'conv_hr\.(weight|bias)|conv_last\.(weight|bias))$')
_CLEANING_KEY = re.compile(r'^image_cleaning\.(0\.main\.(0|2\.\d+\.conv[12])|1)\.(weight|bias)$')

# what marks a BasicVSR inside a state dict, per layout
_ANCHORS = {'basicsr': 'backward_trunk.main.0.weight',
            'mmagic': 'backward_resblocks.main.0.weight'}


@dataclass
class ConversionResult:
    """What :func:`convert_basicvsr_state_dict` found and produced.

    Attributes:
        state_dict (dict): The converted weights: a ``BasicVSRNet`` state dict, or a
            ``RealBasicVSRNet`` one (``image_cleaning.*``, ``basicvsr.*``) when the
            source held a RealBasicVSR generator.
        layout (str): The source layout, ``'basicsr'`` or ``'mmagic'``.
        prefix (str): The prefix the source keys had (e.g. ``'generator_ema.'``).
        architecture (str): ``'BasicVSRNet'`` or ``'RealBasicVSRNet'``.
        mid_channels (int): Inferred from the weights.
        num_blocks (int): Residual blocks per propagation branch, inferred.
        num_cleaning_blocks (int): Residual blocks of the cleaning module (0 if none).
        upscale_factor (int): 4, or 2 when there is no ``upsample2``.
        unmatched (list[str]): Source keys under the prefix that were not converted.
        ignored_prefixes (list[str]): Other prefixes in the source holding a network
            (e.g. the non-EMA generator, a discriminator), not converted.
    """
    state_dict: StateDict
    layout: str
    prefix: str
    architecture: str
    mid_channels: int
    num_blocks: int
    num_cleaning_blocks: int = 0
    upscale_factor: int = 4
    unmatched: List[str] = field(default_factory=list)
    ignored_prefixes: List[str] = field(default_factory=list)

    def summary(self) -> str:
        """A few lines describing the conversion, for people."""
        lines = [
            f'found a {self.architecture} in {self.layout} layout under prefix '
            f'{self.prefix!r}: mid_channels={self.mid_channels}, num_blocks={self.num_blocks}'
            + (f', num_cleaning_blocks={self.num_cleaning_blocks}'
               if self.architecture == 'RealBasicVSRNet' else '')
            + f', x{self.upscale_factor}',
            f'converted {len(self.state_dict)} tensors',
        ]
        if self.ignored_prefixes:
            lines.append(f'not converted (other networks): {", ".join(self.ignored_prefixes)}')
        if self.unmatched:
            lines.append(f'{len(self.unmatched)} keys did not match and were dropped: '
                         + ', '.join(self.unmatched[:20])
                         + (' ...' if len(self.unmatched) > 20 else ''))
        else:
            lines.append('every key under the prefix matched')
        return '\n'.join(lines)


def find_basicvsr(state_dict: StateDict,
                  prefix: Optional[str] = None) -> Tuple[str, str, List[str]]:
    """Locates a BasicVSR in ``state_dict``.

    Args:
        state_dict (dict): Source weights.
        prefix (str, optional): The prefix of the BasicVSR's keys. By default it is
            found; with several (e.g. ``generator.`` and ``generator_ema.`` of a
            RealBasicVSR checkpoint) the EMA one is preferred.

    Returns:
        tuple[str, str, list[str]]: The layout, the prefix of the BasicVSR keys, and
        the other prefixes holding one.
    """
    found = []  # (layout, prefix)
    for k in state_dict:
        for layout, anchor in _ANCHORS.items():
            if k.endswith(anchor) and (k == anchor or k[:-len(anchor)].endswith('.')):
                found.append((layout, k[:-len(anchor)]))
    if not found:
        raise ValueError('found no BasicVSR weights (no key ending in '
                         f'{" or ".join(_ANCHORS.values())}); first keys: '
                         + ', '.join(list(state_dict)[:8]))
    if prefix is not None:
        chosen = [f for f in found if f[1] == prefix]
        if not chosen:
            raise ValueError(f'no BasicVSR under prefix {prefix!r}; found prefixes '
                             f'{[f[1] for f in found]}')
    else:
        # the EMA generator is the one that is evaluated
        chosen = sorted(found, key=lambda f: ('ema' not in f[1], len(f[1]), f[1]))
    layout, chosen_prefix = chosen[0]
    others = [f[1] for f in found if f[1] != chosen_prefix]
    return layout, chosen_prefix, others


def _rename_basicsr(key: str) -> Optional[str]:
    for pattern, repl in _BASICSR_RENAMES:
        match = pattern.match(key)
        if match is None:
            continue
        if repl is None:  # the SPyNet convs: Sequential index 2j -> ConvModule j
            level, idx, kind = match.groups()
            return f'spynet.basic_module.{level}.basic_module.{int(idx) // 2}.conv.{kind}'
        return pattern.sub(repl, key)
    return key if _UNCHANGED.match(key) else None


def _count_blocks(state_dict: StateDict, head: str) -> int:
    pattern = re.compile(re.escape(head) + r'\.main\.2\.(\d+)\.conv1\.weight$')
    idx = [int(m.group(1)) for k in state_dict for m in [pattern.match(k)] if m]
    return max(idx) + 1 if idx else 0


def convert_basicvsr_state_dict(state_dict: StateDict,
                                prefix: Optional[str] = None) -> ConversionResult:
    """Converts BasicVSR (or RealBasicVSR generator) weights to this package's layout.

    Accepts BasicSR's ``BasicVSR`` keys and MMagic's (then only the prefix is
    removed), under any prefix such as ``generator.`` or ``generator_ema.basicvsr.``.
    When the keys next to the BasicVSR include a cleaning module
    (``<parent>image_cleaning.*``) the result is a ``RealBasicVSRNet`` state dict.

    Args:
        state_dict (dict): Source weights (see :func:`unwrap_state_dict`).
        prefix (str, optional): Prefix of the BasicVSR keys; found by default.

    Returns:
        ConversionResult: The converted weights and what was found.
    """
    layout, prefix, others = find_basicvsr(state_dict, prefix)
    converted: StateDict = {}
    unmatched: List[str] = []
    for key, value in state_dict.items():
        if not key.startswith(prefix) or any(
                o.startswith(prefix) and o != prefix and key.startswith(o) for o in others):
            continue
        short = key[len(prefix):]
        if layout == 'basicsr':
            new = _rename_basicsr(short)
        else:
            new = short if _MMAGIC_KEY.match(short) else None
        if new is None:
            unmatched.append(key)
        else:
            converted[new] = value

    # a RealBasicVSR generator: the cleaning module sits beside 'basicvsr.'
    architecture = 'BasicVSRNet'
    num_cleaning_blocks = 0
    if layout == 'mmagic' and prefix.endswith('basicvsr.'):
        parent = prefix[:-len('basicvsr.')]
        cleaning = {k[len(parent):]: v for k, v in state_dict.items()
                    if k.startswith(parent + 'image_cleaning.')}
        if cleaning:
            architecture = 'RealBasicVSRNet'
            unmatched += [parent + k for k in cleaning if not _CLEANING_KEY.match(k)]
            converted = {'basicvsr.' + k: v for k, v in converted.items()}
            converted.update({k: v for k, v in cleaning.items() if _CLEANING_KEY.match(k)})
            num_cleaning_blocks = _count_blocks(converted, 'image_cleaning.0')
            prefix = parent

    body = 'basicvsr.' if architecture == 'RealBasicVSRNet' else ''
    anchor = converted.get(body + 'backward_resblocks.main.0.weight')
    if anchor is None:
        raise ValueError(f'the BasicVSR under prefix {prefix!r} has no backward_resblocks input '
                         'conv after conversion')
    return ConversionResult(
        state_dict=converted,
        layout=layout,
        prefix=prefix,
        architecture=architecture,
        mid_channels=anchor.shape[0],
        num_blocks=_count_blocks(converted, body + 'backward_resblocks'),
        num_cleaning_blocks=num_cleaning_blocks,
        upscale_factor=4 if body + 'upsample2.upsample_conv.weight' in converted else 2,
        unmatched=unmatched,
        ignored_prefixes=[o for o in others if o != prefix and not o.startswith(prefix)],
    )


def extract_spynet_state_dict(state_dict: StateDict) -> StateDict:
    """The SPyNet part of a converted BasicVSR / RealBasicVSR state dict.

    Only the ``basic_module.*`` keys are kept (the mean and std are fixed
    buffers), which is the layout of MMagic's SPyNet checkpoints and what
    ``SPyNet(pretrained=...)`` loads strictly.
    """
    heads = ('spynet.basic_module.', 'basicvsr.spynet.basic_module.')
    out = {}
    for key, value in state_dict.items():
        for head in heads:
            if key.startswith(head):
                out[key[len(head) - len('basic_module.'):]] = value
    if not out:
        raise ValueError('no SPyNet weights (spynet.basic_module.*) in the state dict')
    return out


def build_matching_model(result: ConversionResult) -> torch.nn.Module:
    """Builds the network the converted weights belong to (random weights)."""
    from mmrbvsr.models.archs import BasicVSRNet, RealBasicVSRNet
    if result.architecture == 'RealBasicVSRNet':
        return RealBasicVSRNet(
            mid_channels=result.mid_channels, num_propagation_blocks=result.num_blocks,
            num_cleaning_blocks=result.num_cleaning_blocks,
            upscale_factor=result.upscale_factor)
    return BasicVSRNet(mid_channels=result.mid_channels, num_blocks=result.num_blocks,
                       upscale_factor=result.upscale_factor)


def convert_checkpoint(src: str,
                       out: Optional[str] = None,
                       spynet_out: Optional[str] = None,
                       key: Optional[str] = None,
                       prefix: Optional[str] = None,
                       strict: bool = False) -> Tuple[ConversionResult, List[str]]:
    """Converts a checkpoint file and writes the network and/or SPyNet weights.

    The outputs are ``{'state_dict': ..., 'meta': ...}`` files that MMEngine's
    ``load_checkpoint`` reads (and ``SPyNet(pretrained=...)`` for ``spynet_out``).

    Args:
        src (str): Path or URL of a Runner checkpoint, a ``state_dict``/``params``
            file or a bare state dict.
        out (str, optional): Where to write the converted network weights.
        spynet_out (str, optional): Where to write the SPyNet weights.
        key (str, optional): Top-level key holding the weights (see
            :func:`unwrap_state_dict`).
        prefix (str, optional): Prefix of the BasicVSR keys (see :func:`find_basicvsr`).
        strict (bool): Raise if any source key did not match, or the result does
            not fit the network it describes. Default: False.

    Returns:
        tuple[ConversionResult, list[str]]: The conversion and report lines.

    Raises:
        FileNotFoundError: If ``src`` or an output's folder does not exist.
        ValueError: If an output path is a folder or the same as another path, the source is
            no readable checkpoint (:class:`CheckpointError`), holds no BasicVSR weights, or
            (with ``strict``) the conversion is not exact.
    """
    outputs = [p for p in (out, spynet_out) if p is not None]
    for path in outputs:  # before the (maybe downloaded) source is read
        check_output_path(path)
    if len(set(map(os.path.abspath, outputs))) < len(outputs):
        raise ValueError(f'--out and --spynet-out are the same file {out!r}')
    if '://' not in str(src) and any(os.path.abspath(p) == os.path.abspath(src)
                                     for p in outputs):
        raise ValueError(f'the output would overwrite the source {str(src)!r}')
    state_dict, where = unwrap_state_dict(load_checkpoint_file(src), key)
    result = convert_basicvsr_state_dict(state_dict, prefix)
    report = [f'{src}: {where}, {len(state_dict)} tensors', result.summary()]

    missing, unexpected, mismatched = check_against_model(
        result.state_dict, build_matching_model(result))
    problems = ([f'missing for {result.architecture}: {", ".join(missing)}'] if missing else []) \
        + ([f'unexpected for {result.architecture}: {", ".join(unexpected)}']
           if unexpected else []) \
        + ([f'shape mismatch: {"; ".join(mismatched)}'] if mismatched else [])
    report += problems or [f'loads into {result.architecture} with strict=True']
    if strict and (problems or result.unmatched):
        raise ValueError('conversion is not exact:\n' + '\n'.join(report))

    meta = {'converted_from': str(src), 'source_layout': result.layout,
            'architecture': result.architecture, 'mid_channels': result.mid_channels,
            'num_blocks': result.num_blocks, 'upscale_factor': result.upscale_factor}
    spynet = None if spynet_out is None else extract_spynet_state_dict(result.state_dict)
    if out is not None:
        save_atomically({'state_dict': result.state_dict, 'meta': meta}, out)
        report.append(f'wrote {len(result.state_dict)} tensors to {out}')
    if spynet_out is not None:
        save_atomically({'state_dict': spynet, 'meta': dict(meta, architecture='SPyNet')},
                        spynet_out)
        report.append(f'wrote SPyNet ({len(spynet)} tensors) to {spynet_out}')
    return result, report


def check_output_path(path: str) -> None:
    """Raises unless ``path`` can be written as a file: its folder exists, it is no folder."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f'output folder {folder!r} (of {str(path)!r}) does not exist')
    if os.path.isdir(path):
        raise ValueError(f'output {str(path)!r} is a folder; give a file name')
    if not os.access(folder, os.W_OK):
        raise ValueError(f'output folder {folder!r} is not writable')


def save_atomically(obj: dict, path: str) -> None:
    """``torch.save`` into a temporary file beside ``path``, then renamed to it: an
    interrupted save leaves no half-written checkpoint under that name."""
    path = Path(path)
    tmp = path.with_name(f'.{path.name}.partial-{os.getpid()}')
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
