"""ser's CRNN (crates/ser-models/src/crnn.rs) in PyTorch, built from an artifact's model config
(`manifest.json` -> members[0].model), for the scripts that compare ser with PyTorch:
train_vs_pytorch.py (speed) and cv_pytorch.py (accuracy)."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Crnn(nn.Module):
    """Conv blocks (conv 3x3 -> BN -> ReLU -> max-pool, or a strided first conv) -> linear
    projection -> BiGRU -> masked attention + max pooling -> linear, as ser's CrnnConfig."""

    def __init__(self, cfg, dropout=None):
        super().__init__()
        assert cfg["family"] == "crnn"
        self.cfg = cfg
        blocks, cin = [], 1
        for i, (c, tp) in enumerate(zip(cfg["channels"], cfg["time_pools"])):
            if i == 0 and cfg.get("strided_stem", False):
                # ser's strided first block: the conv's stride downsamples, no max-pool.
                blocks += [nn.Conv2d(cin, c, 3, stride=(2, tp), padding=1), nn.BatchNorm2d(c), nn.ReLU()]
            else:
                blocks += [nn.Conv2d(cin, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d((2, tp))]
            cin = c
        self.conv = nn.Sequential(*blocks)
        f = cfg["n_bins"] >> len(cfg["channels"])
        self.proj = nn.Linear(cin * f, cfg["projection"])
        self.rnn = nn.GRU(cfg["projection"], cfg["hidden"], batch_first=True, bidirectional=True)
        self.att = nn.Linear(2 * cfg["hidden"], 1)
        self.drop = nn.Dropout(cfg["dropout"] if dropout is None else dropout)
        self.head = nn.Linear(4 * cfg["hidden"], cfg["n_classes"])

    def forward(self, x, mask):  # x [B, bins, T], mask [B, T'] (1 = valid step)
        h = self.conv(x.unsqueeze(1))
        b, c, f, t = h.shape
        h = h.permute(0, 3, 1, 2).reshape(b, t, c * f)
        h = F.relu(self.proj(self.drop(h)))
        h, _ = self.rnn(h)
        s = self.att(h).squeeze(2) + (mask - 1) * 1e4
        w = torch.softmax(s, 1).unsqueeze(2)
        att = (h * w).sum(1)
        mx = (h + (mask.unsqueeze(2) - 1) * 1e4).max(1).values
        return self.head(self.drop(torch.cat([att, mx], 1)))

    def steps(self, width):
        """Output steps of the conv stack for `width` input frames: a stride-`tp` 3-wide conv
        with padding 1 gives floor((T - 1) / tp) + 1, a max-pool floor(T / tp)."""
        t = width
        for i, tp in enumerate(self.cfg["time_pools"]):
            t = (t - 1) // tp + 1 if i == 0 and self.cfg.get("strided_stem") else t // tp
        return t

    def mask(self, lens, width):
        """[B, steps(width)] mask of the valid output steps of clips of `lens` frames."""
        t_out = self.steps(width)
        mask = torch.zeros(len(lens), t_out)
        for j, l in enumerate(lens):
            mask[j, :max(1, -(-l * t_out // width))] = 1
        return mask
