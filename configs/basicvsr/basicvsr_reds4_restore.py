# BasicVSR (c64, 30 blocks per branch, x4) for tools/restore_video.py: the generator alone.
# Weights: the official BasicVSR REDS4 checkpoint, converted with
#   python tools/convert_checkpoint.py BasicVSR_REDS4.pth --out work_dirs/basicvsr_reds4.pth
# BasicVSR is trained on bicubic-downsampled frames, not on real-world degradations.
custom_imports = dict(imports=['mmrbvsr'], allow_failed_imports=False)
model = dict(generator=dict(type='mmrbvsr.BasicVSRNet', mid_channels=64, num_blocks=30))
