# Demo stage 2 (GAN), from demo stage 1: the paper's stage-2 losses (VGG19 perceptual with
# random weights, no download; U-Net discriminator; GAN weight 0.05), shrunk for 2 CPU cores.
_base_ = './realbasicvsr_demo_stage1.py'

experiment_name = 'realbasicvsr_demo_stage2'
work_dir = './work_dirs/demo/stage2'
iters = 10
load_from = './work_dirs/demo/stage1/iter_30.pth'

model = dict(
    discriminator=dict(
        type='mmrbvsr.UNetDiscriminatorWithSpectralNorm',
        in_channels=3,
        mid_channels=16,
        skip_connection=True),
    perceptual_loss=dict(
        type='mmrbvsr.PerceptualLoss',
        layer_weights={'2': 0.1, '7': 0.1, '16': 1.0, '25': 1.0, '34': 1.0},
        vgg_type='vgg19',
        perceptual_weight=1.0,
        style_weight=0,
        norm_img=False,
        pretrained=None),  # set a VGG19 path or torchvision://vgg19 for a real perceptual loss
    gan_loss=dict(
        type='mmrbvsr.GANLoss',
        gan_type='vanilla',
        loss_weight=5e-2,
        real_label_val=1.0,
        fake_label_val=0),
    is_use_sharpened_gt_in_percep=True,
    is_use_sharpened_gt_in_gan=False)

train_dataloader = dict(batch_size=1)
optim_wrapper = dict(
    _delete_=True,
    constructor='MultiOptimWrapperConstructor',
    generator=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-5, betas=(0.9, 0.99))),
    discriminator=dict(
        type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.99))))
train_cfg = dict(max_iters=iters, val_interval=iters)
default_hooks = dict(checkpoint=dict(interval=iters))
