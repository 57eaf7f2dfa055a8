"""Test a model from an MMagic config (MMagic's tools/test.py arguments)."""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmrbvsr.utils.cli import test  # noqa: E402

if __name__ == '__main__':
    test()
