# %% [markdown]
# # Lab 2: an edge detector (seed 002)
#
# The kernel `[-1, 1]` subtracts each pixel from its right-hand neighbour. On flat ground,
# dark or bright, the two are equal and the answer is 0. Where the image steps from 0 to 1,
# the answer is 1. The feature map lights up only on the edge.

# %%
import numpy as np

import convscope as cs
from convscope.lessons import run_lab

run_lab("edge_lab")

# %% [markdown]
# The same idea on your own image: a bright square on a dark ground. The kernel fires on the
# left edge (+1) and on the right edge (-1, brightness falls), and nowhere else.

# %%
square = np.zeros((6, 6), dtype=np.float32)
square[1:5, 1:4] = 1
edge = np.array([[-1, 1]], dtype=np.float32)
cs.conv2d(square[None, None], edge[None, None])[0, 0]

# %% [markdown]
# Turn the kernel on its side and it finds the top and bottom edges instead:

# %%
cs.conv2d(square[None, None], edge.T[None, None])[0, 0]
