# %% [markdown]
# # Lab 4: channels in, feature maps out (seed 002)
#
# An RGB image has 3 channels. Each of the layer's 8 filters is a 3x3x3 block: one 3x3 kernel
# per input channel. A filter's three responses are added into one feature map, so 8 filters
# give 8 maps. The weight is (out_channels, in_channels, kH, kW) = (8, 3, 3, 3).

# %%
import numpy as np

import convscope as cs
from convscope.lessons import run_lab

run_lab("channel_lab")

# %% [markdown]
# Exercise: 16 output channels. Only the weight's first axis and the output's channel axis
# change; the height and width do not.

# %%
x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
w = np.random.default_rng(1).standard_normal((16, 3, 3, 3)).astype(np.float32)
print("weight:", w.shape, "output:", cs.conv2d(x, w, padding=1).shape)

# %% [markdown]
# A filter's map is the sum of its per-channel maps (here filter 0):

# %%
per_channel = [cs.conv2d(x[:, c:c + 1], w[0:1, c:c + 1], padding=1) for c in range(3)]
together = cs.conv2d(x, w[0:1], padding=1)
print("max |sum of channels - filter 0| =", float(np.abs(sum(per_channel) - together).max()))
