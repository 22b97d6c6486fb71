# %% [markdown]
# # Lab: from an image library's layout to PyTorch's (seed 002)
#
# Image libraries (PIL, OpenCV, Matplotlib) hand you a batch as (N, H, W, C): channels last.
# PyTorch's `Conv2d` wants (N, C, H, W). `x.permute(0, 3, 1, 2)` moves the channel axis to
# position 1; nothing about the pixels changes, only which axis is which.

# %%
from convscope.lessons import run_lab

run_lab("permute_lab")

# %% [markdown]
# Without the permute, the layer would read 32 "channels" (the image's height) where it expects 3,
# and convscope says so, with the fix:

# %%
import numpy as np

import convscope as cs

image = np.random.default_rng(0).standard_normal((2, 32, 32, 3)).astype(np.float32)
weight = np.random.default_rng(1).standard_normal((8, 3, 3, 3)).astype(np.float32)
try:
    cs.conv2d(image, weight, padding=1)
except cs.ChannelsLastError as error:
    print(error)

# %% [markdown]
# Exercise: a layer with 4 feature maps instead of 8. Which shapes change?

# %%
run_lab("permute_lab", out_channels=4)
