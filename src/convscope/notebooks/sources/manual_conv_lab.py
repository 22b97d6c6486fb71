# %% [markdown]
# # Lab 1: a feature map by hand (seed 002)
#
# A 4x4 image and a 2x2 kernel. The kernel sits on one 2x2 window, multiplies the four pairs,
# adds the four products, and writes one number. Then it slides one step and does it again.
# 3 positions across times 3 down gives a 3x3 feature map.

# %%
import numpy as np

import convscope as cs
from convscope.lessons import run_lab

image = np.array([[1, 2, 0, 0],
                  [5, 3, 0, 4],
                  [2, 1, 3, 1],
                  [0, 2, 1, 2]], dtype=np.float32)
kernel = np.array([[1, 0],
                   [0, -1]], dtype=np.float32)

# %% [markdown]
# The lesson's program, rerun by convscope's engine and checked against `torch.nn.functional.conv2d`:

# %%
run_lab("manual_conv_lab")

# %% [markdown]
# The top-left output cell, by hand: the window is the image's first two rows and columns.

# %%
window = image[0:2, 0:2]
products = window * kernel
print(products)
print("sum =", products.sum())

# %% [markdown]
# The engine does the same at every position. It takes (batch, channels, height, width),
# as torch does:

# %%
cs.conv2d(image[None, None], kernel[None, None])[0, 0]

# %% [markdown]
# Why 3x3? One axis at a time:

# %%
cs.explain_output_size(4, 2)

# %% [markdown]
# Step through it: each step shows the window, its four products and their sum.
# Press play, or set `stepper.index` from Python.

# %%
from convscope.widgets import Stepper

stepper = Stepper(image, kernel)
stepper
