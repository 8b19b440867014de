#!/usr/bin/env python3
# PyTorch peer for clgan's DCGAN throughput on 28x28 images: the model clgan's "dcgan" preset is
# meant to match, trained with the same step and timed the same way as bench/peer_mlp.py (whose
# loop it reuses). One machine-readable line on stdout:
#   peer dcgan batch=64 threads=1 steps=300 steps_per_s=XX.X img_per_s=YYYY ms_per_step=Z.ZZ
#
#   /usr/bin/python3 bench/peer_dcgan.py [--threads N] [--steps N] [--warmup N] [--data DIR]
#                                        [--device cpu|cuda]
#
# G: Linear(100,128), BN1d, ReLU, Linear(128, 7*7*256), BN1d, ReLU, Unflatten(256,7,7),
#    ConvTranspose2d(256,128,4,2,1) -> 14x14, BN2d, ReLU, ConvTranspose2d(128,1,4,2,1) -> 28x28,
#    Tanh.
# D: Conv2d(1,32,4,2,1) -> 14x14, BN2d, LeakyReLU(0.2), Conv2d(32,64,4,2,1) -> 7x7, BN2d,
#    LeakyReLU(0.2), Flatten, Linear(64*7*7, 1) (logits).
# Adam lr 2e-4, betas (0.5, 0.999), batch 64. PyTorch's default initialisation and BatchNorm
# settings.

import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_mlp import bench, parse_args  # noqa: E402


def build_dcgan():
    G = nn.Sequential(
        nn.Linear(100, 128), nn.BatchNorm1d(128), nn.ReLU(),
        nn.Linear(128, 7 * 7 * 256), nn.BatchNorm1d(7 * 7 * 256), nn.ReLU(),
        nn.Unflatten(1, (256, 7, 7)),
        nn.ConvTranspose2d(256, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 1, 4, 2, 1), nn.Tanh())
    D = nn.Sequential(
        nn.Conv2d(1, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 1))
    return G, D, 64, (0.5, 0.999)


def main():
    args = parse_args(["dcgan"], "dcgan")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    G, D, batch, betas = build_dcgan()
    bench("dcgan", G, D, batch, betas, args, image_shape=(1, 28, 28))
    return 0


if __name__ == "__main__":
    sys.exit(main())
