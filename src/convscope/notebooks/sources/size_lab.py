# %% [markdown]
# # Lab 3: stride and padding set the output size (seed 002)
#
# A 6x6 input, a 3x3 kernel, stride 2, padding 1: the output is 3x3. Padding adds a frame of
# zeros, so the kernel can centre on border pixels; stride 2 skips every other position.

# %%
import numpy as np

import convscope as cs
from convscope.lessons import run_lab

run_lab("size_lab")

# %% [markdown]
# The arithmetic, with its numbers:

# %%
cs.explain_output_size(6, 3, stride=2, padding=1)

# %% [markdown]
# Exercise: change the stride to 1. Predict the size first, then run the cell.

# %%
x = np.random.default_rng(0).standard_normal((1, 1, 6, 6)).astype(np.float32)
w = np.random.default_rng(1).standard_normal((2, 1, 3, 3)).astype(np.float32)
print(cs.conv2d(x, w, stride=1, padding=1).shape)
cs.explain_output_size(6, 3, stride=1, padding=1)

# %% [markdown]
# A stride that does not divide evenly drops the last positions. The explanation warns about it:

# %%
cs.explain_output_size(28, 3, stride=2)
