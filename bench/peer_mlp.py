#!/usr/bin/env python3
# PyTorch peer for clgan's throughput figures: the same GAN training step as clgan, on the same
# models, timed in PyTorch on the CPU (or --device cuda), so clgan's steps per second have a
# reference point. One machine-readable line on stdout:
#   peer mlp batch=128 threads=1 steps=300 steps_per_s=XX.X img_per_s=YYYY ms_per_step=Z.ZZ
# Diagnostics (PyTorch version, final losses) go to stderr.
#
#   /usr/bin/python3 bench/peer_mlp.py [--model mlp|mlp-bn] [--threads N] [--steps N]
#                                      [--warmup N] [--data DIR] [--device cpu|cuda]
#
# The step is the one tests/fixtures/README.md describes: fake = G(z) once; D step on
# bce(D(x), 1) + bce(D(fake.detach()), 0); G step on bce(D(fake), 1) with the updated D and the
# same fake. BCE from logits, mean reduction. The training set is loaded once as a float tensor in
# [-1, 1]; each epoch draws a new permutation and batches are gathered from it; noise comes from
# torch.randn. bench/peer_dcgan.py reuses this file's loop with the DCGAN model.
#
# Debian's python3-torch does its float32 GEMMs through libblas.so.3. Where only libblas3 is
# installed that is the reference BLAS, about 10x slower on these models (mlp: 221 against 18 ms
# a step on one thread), which makes no fair peer: install libopenblas0-openmp, or point
# LD_LIBRARY_PATH at the openblas-openmp folder of its unpacked .deb. The BLAS library in use is
# printed on stderr.

import argparse
import gzip
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def load_images(data_dir):
    """Fashion-MNIST (or MNIST) training images as a (N, 784) float32 tensor in [-1, 1]."""
    path = os.path.join(data_dir, "train-images-idx3-ubyte.gz")
    if not os.path.exists(path):
        path = path[:-3]
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 0x00000803:
            raise ValueError(f"{path}: not an IDX3 ubyte file (magic {magic:#x})")
        raw = f.read(n * rows * cols)
    images = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(n, rows * cols)
    return images.to(torch.float32) / 127.5 - 1.0


def build_mlp(model):
    """(G, D as logits, batch, adam betas) for "mlp" and "mlp-bn", as in the parity fixtures."""
    if model == "mlp":
        G = nn.Sequential(
            nn.Linear(100, 128), nn.ReLU(),
            nn.Linear(128, 256), nn.ReLU(),
            nn.Linear(256, 784), nn.Tanh())
        D = nn.Sequential(
            nn.Linear(784, 256), nn.LeakyReLU(0.2),
            nn.Linear(256, 128), nn.LeakyReLU(0.2),
            nn.Linear(128, 1), nn.Sigmoid())
        return G, D[:-1], 128, (0.9, 0.999)
    if model == "mlp-bn":
        def bn(n):
            return nn.BatchNorm1d(n, eps=1e-3, momentum=0.2)
        G = nn.Sequential(
            nn.Linear(100, 256), nn.LeakyReLU(0.01), bn(256),
            nn.Linear(256, 512), nn.LeakyReLU(0.01), bn(512),
            nn.Linear(512, 1024), nn.LeakyReLU(0.01), bn(1024),
            nn.Linear(1024, 784), nn.Tanh())
        D = nn.Sequential(
            nn.Linear(784, 512), nn.LeakyReLU(0.01),
            nn.Linear(512, 256), nn.LeakyReLU(0.01),
            nn.Linear(256, 1), nn.Sigmoid())
        for net in (G, D):
            for layer in net:
                if isinstance(layer, nn.Linear):
                    nn.init.xavier_uniform_(layer.weight)
                    nn.init.zeros_(layer.bias)
        return G, D[:-1], 64, (0.5, 0.999)
    raise ValueError(f"unknown model {model!r}")


def bce_logits(logits, target):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def gan_step(G, D, optG, optD, x, z):
    """One clgan training step; D returns logits. Returns (lossD, lossG) as tensors."""
    fake = G(z)
    optD.zero_grad()
    loss_d = bce_logits(D(x), 1.0) + bce_logits(D(fake.detach()), 0.0)
    loss_d.backward()
    optD.step()
    optG.zero_grad()
    loss_g = bce_logits(D(fake), 1.0)
    loss_g.backward()
    optG.step()
    return loss_d.detach(), loss_g.detach()


def parse_args(models, default_model):
    ap = argparse.ArgumentParser(description="PyTorch peer benchmark of clgan's GAN step.")
    ap.add_argument("--model", choices=models, default=default_model)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=1)
    return ap.parse_args()


def blas_library():
    """Path of the BLAS library mapped into this process, or "unknown"."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f
                     if "blas" in os.path.basename(line.split()[-1]) or "mkl" in line}
    except OSError:
        return "unknown"
    real = sorted({os.path.realpath(p) for p in paths if p.startswith("/")})
    return ",".join(real) if real else "unknown"


def bench(name, G, D, batch, betas, args, image_shape=(784,)):
    """Runs warmup + timed steps and prints the result line."""
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)
    data = load_images(args.data).reshape(-1, *image_shape).to(dev)
    G, D = G.to(dev).train(), D.to(dev).train()
    optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=betas, eps=1e-8)
    optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=betas, eps=1e-8)
    per_epoch = data.shape[0] // batch
    perm, pos = None, per_epoch

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def one_step():
        nonlocal perm, pos
        if pos == per_epoch:
            perm, pos = torch.randperm(data.shape[0], device=dev), 0
        x = data[perm[pos * batch:(pos + 1) * batch]]
        pos += 1
        z = torch.randn(batch, 100, device=dev)
        return gan_step(G, D, optG, optD, x, z)

    for _ in range(args.warmup):
        one_step()
    sync()
    start = time.perf_counter()
    for _ in range(args.steps):
        loss_d, loss_g = one_step()
    sync()
    seconds = time.perf_counter() - start
    blas = blas_library()
    print(f"torch {torch.__version__} device={args.device} model={name} blas={blas} "
          f"final loss_d={loss_d.item():.4f} loss_g={loss_g.item():.4f}", file=sys.stderr)
    if "/blas/libblas" in blas:
        print("warning: reference BLAS in use; see this script's header", file=sys.stderr)
    print(f"peer {name} batch={batch} threads={args.threads} steps={args.steps} "
          f"steps_per_s={args.steps / seconds:.1f} img_per_s={args.steps * batch / seconds:.0f} "
          f"ms_per_step={1000 * seconds / args.steps:.2f}")


def main():
    args = parse_args(["mlp", "mlp-bn"], "mlp")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    G, D, batch, betas = build_mlp(args.model)
    bench(args.model, G, D, batch, betas, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
