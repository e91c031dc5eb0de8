"""PyTorch counterpart of `glassnet train mnist-cnn`, for whole-process timing: the same model, data,
epochs, optimizer, schedule and augmentation (glassnet/recipes/mnist.py, CNNConfig's defaults).

    GLASSNET_DATA=... OMP_NUM_THREADS=2 python benchmarks/e2e/torch_mnist_cnn.py
    GLASSNET_DATA=... python benchmarks/e2e/torch_mnist_cnn.py --epochs 1 --limit 200   # a smoke run

  model      conv 3x3 32 (padding 1), BatchNorm, ReLU, max-pool 2, conv 3x3 64, BatchNorm, ReLU, max-pool 2,
             flatten, fc 3136-128, ReLU, dropout 0.2, fc 10
  data       MNIST (the four idx .gz files in $GLASSNET_DATA/mnist, read with NumPy), pixels / 255
             normalised with mean 0.1307 and std 0.3081; shuffled batches of 64 (the last one smaller)
  augment    per image: rotation uniform in +-8 degrees and a shift of up to 8% of the side, rounded to
             whole pixels, nearest pixel, outside pixels the normalised black
  training   8 epochs, AdamW lr 3e-3 weight decay 1e-4, OneCycleLR to 3e-3 over all steps (stepped per
             batch); cross-entropy; the running loss and accuracy of every batch read, as glassnet's loop
  after each epoch  test loss and accuracy (batches of 1000), a checkpoint of the model and optimizer
             (torch.save; 'best' when the accuracy improved)

Prints each epoch and, at the end, the test accuracy and the wall time since the process started.
glassnet's run also draws its plots at the end; this script does not.
"""
import time

START = time.perf_counter()  # the process's wall time includes importing PyTorch

import argparse  # noqa: E402
import gzip  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

MEAN, STD = 0.1307, 0.3081


def read_idx(path):
    """An idx file (gzip-compressed) as a NumPy uint8 array: images (N, 28, 28) or labels (N,)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load(folder, train, limit=0):
    prefix = "train" if train else "t10k"
    images = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"))
    if limit:
        images, labels = images[:limit], labels[:limit]
    x = ((images.astype(np.float32) / 255 - MEAN) / STD)[:, None]
    return torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))


def model(channels=32, hidden=128, dropout=0.2):
    c = channels
    return nn.Sequential(
        nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c, 2 * c, 3, padding=1), nn.BatchNorm2d(2 * c), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * c * 7 * 7, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, 10),
    )


def augment(x, degrees=8.0, translate=0.08):
    """Random rotation and whole-pixel shift per image, about the centre, nearest pixel (x: (B, 1, H, W))."""
    b, _, h, w = x.shape
    angle = torch.empty(b).uniform_(-degrees, degrees) * math.pi / 180
    shift = torch.round(torch.empty(b, 2).uniform_(-translate * w, translate * w))  # pixels (x, y)
    cos, sin = torch.cos(angle), torch.sin(angle)
    inverse = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2)  # rotation by -angle
    shift = shift / ((w - 1) / 2)  # in the [-1, 1] coordinates of affine_grid (align_corners=True)
    theta = torch.cat([inverse, -(inverse @ shift[:, :, None])], 2)  # (B, 2, 3): output -> input position
    grid = F.affine_grid(theta, list(x.shape), align_corners=True)
    fill = -MEAN / STD  # black; grid_sample fills zeros, so sample x - fill and add fill back
    return F.grid_sample(x - fill, grid, mode="nearest", align_corners=True) + fill


def evaluate(net, x, y, batch=1000):
    net.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = net(x[i:i + batch])
            loss += F.cross_entropy(logits, y[i:i + batch], reduction="sum").item()
            correct += (logits.argmax(1) == y[i:i + batch]).sum().item()
    net.train()
    return loss / len(x), correct / len(x)


def train_epoch(net, optimizer, scheduler, x, y, batch_size):
    order = torch.randperm(len(x))
    loss_sum = correct = seen = 0
    for i in range(0, len(x), batch_size):
        idx = order[i:i + batch_size]
        xb, yb = augment(x[idx]), y[idx]
        logits = net(xb)
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        scheduler.step()
        loss_sum += loss.item() * len(yb)
        correct += (logits.argmax(1) == yb).sum().item()
        seen += len(yb)
    return loss_sum / seen, correct / seen


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N images only (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None, help="folder with mnist/ (default: $GLASSNET_DATA)")
    parser.add_argument("--out", default="runs/torch-mnist-cnn", help="folder for the checkpoints")
    args = parser.parse_args()
    folder = os.path.join(args.data_dir or os.environ["GLASSNET_DATA"], "mnist")
    torch.manual_seed(args.seed)
    train_x, train_y = load(folder, True, args.limit)
    test_x, test_y = load(folder, False)
    net = model()
    optimizer = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps = args.epochs * math.ceil(len(train_x) / args.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=steps)
    os.makedirs(args.out, exist_ok=True)
    best = 0.0
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {len(train_x)} training images")
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        train_loss, train_acc = train_epoch(net, optimizer, scheduler, train_x, train_y, args.batch_size)
        seconds = time.perf_counter() - started
        test_loss, test_acc = evaluate(net, test_x, test_y)
        print(f"epoch {epoch}: train loss {train_loss:.4f} acc {100 * train_acc:.2f}% | test loss {test_loss:.4f} "
              f"acc {100 * test_acc:.2f}% | {seconds:.1f} s, {len(train_x) / seconds:.0f} img/s", flush=True)
        state = {"model": net.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch}
        if test_acc > best:
            best = test_acc
            torch.save(state, os.path.join(args.out, "best.pt"))
        torch.save(state, os.path.join(args.out, "last.pt"))
    print(f"test accuracy {100 * test_acc:.2f}% (best {100 * best:.2f}%)")
    print(f"wall time {time.perf_counter() - START:.1f} s (whole process, PyTorch import included)")


if __name__ == "__main__":
    main()
