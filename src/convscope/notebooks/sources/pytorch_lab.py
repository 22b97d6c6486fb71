# %% [markdown]
# # Lab 10: nn.Conv2d and its 448 parameters (seed 003)
#
# `nn.Conv2d(3, 16, 3, padding=1)` holds 16 filters of 3x3x3 weights plus 16 biases:
# 16*3*3*3 + 16 = 448 numbers. The same 448 are used at every one of the 32*32 positions.

# %%
import torch

from convscope.inspect import trace
from convscope.lessons import run_lab

run_lab("pytorch_lab")

# %% [markdown]
# Compare it with a dense layer that sees the same image: its weight count grows with the
# image, the convolution's does not.

# %%
conv = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, padding=1))
dense = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 16 * 32 * 32))
print("conv parameters: ", sum(p.numel() for p in conv.parameters()))
print("dense parameters:", sum(p.numel() for p in dense.parameters()))
trace(conv, (8, 3, 32, 32))
