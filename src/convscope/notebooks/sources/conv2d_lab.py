# %% [markdown]
# # Lab 5: the Conv2d checklist (seed 002)
#
# Four shapes say everything about a convolution layer: input (N, C_in, H, W), weight
# (C_out, C_in, kH, kW), bias (C_out,) and output (N, C_out, H_out, W_out).

# %%
import torch

from convscope.inspect import trace
from convscope.lessons import run_lab

run_lab("conv2d_lab")

# %% [markdown]
# The same checklist for a whole network, layer by layer: output shapes, parameters and each
# layer's receptive field.

# %%
model = torch.nn.Sequential(
    torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(4, 8, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8 * 2 * 2, 10))
trace(model, (1, 1, 8, 8))
