"""tools/side_by_side.py: the README's input | output picture."""
import importlib.util
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]


def load_tool():
    spec = importlib.util.spec_from_file_location('side_by_side',
                                                  REPO / 'tools' / 'side_by_side.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_halves_are_the_bicubic_input_and_the_output_of_the_same_region(tmp_path, capsys):
    tool = load_tool()
    rng = np.random.default_rng(0)
    lq = rng.integers(0, 256, (3, 20, 30, 3), dtype=np.uint8)
    hq = rng.integers(0, 256, (3, 80, 120, 3), dtype=np.uint8)
    for name, frames in (('in', lq), ('out', hq)):
        (tmp_path / name).mkdir()
        for i, frame in enumerate(frames):
            cv2.imwrite(str(tmp_path / name / f'{i:08d}.png'), frame)
    assert tool.main([str(tmp_path / 'in'), str(tmp_path / 'out'), str(tmp_path / 'f.png'),
                      '--frame', '2', '--crop', '5', '10', '12', '16']) == 0
    image = cv2.imread(str(tmp_path / 'f.png'))
    assert image.shape == (48, 64 + 4 + 64, 3)
    region = lq[2, 5:17, 10:26]
    np.testing.assert_array_equal(image[:, :64],
                                  cv2.resize(region, (64, 48), interpolation=cv2.INTER_CUBIC))
    assert (image[:, 64:68] == 255).all()
    np.testing.assert_array_equal(image[:, 68:], hq[2, 20:68, 40:104])
    # bad input: a clear one-line error naming the value, nothing written
    assert tool.main([str(tmp_path / 'in'), str(tmp_path / 'out'), str(tmp_path / 'g.png'),
                      '--frame', '3']) == 1
    assert "frame 3 asked, but" in capsys.readouterr().err
    assert tool.main([str(tmp_path / 'in'), str(tmp_path / 'out'), str(tmp_path / 'g.png'),
                      '--crop', '15', '0', '10', '10']) == 1
    assert 'crop [15, 0, 10, 10] is outside the 30x20 input' in capsys.readouterr().err
    assert not (tmp_path / 'g.png').exists()
