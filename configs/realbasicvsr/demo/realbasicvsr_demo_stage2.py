# Demo stage 2 (GAN), from demo stage 1: the paper's stage-2 losses (VGG19 perceptual with
# random weights, no download; U-Net discriminator; GAN weight 0.05), shrunk for 2 CPU cores.
_base_ = ['./realbasicvsr_demo_stage1.py', '../../_base_/models/realbasicvsr_gan.py']

experiment_name = 'realbasicvsr_demo_stage2'
work_dir = './work_dirs/demo/stage2'
iters = 10
load_from = './work_dirs/demo/stage1/iter_30.pth'

model = _base_.gan_model
model.discriminator.mid_channels = 16
# set a VGG19 path or torchvision://vgg19 for a real perceptual loss
model.perceptual_loss.pretrained = None
optim_wrapper = _base_.gan_optim_wrapper
train_dataloader = dict(batch_size=1)
train_cfg = dict(max_iters=iters, val_interval=iters)
default_hooks = dict(checkpoint=dict(interval=iters))
