# %% [markdown]
# # Lab 7: Sobel with four loops (seed 003)
#
# The pure-Python layer: two loops over output positions, two over the kernel. Every output is
# the sum of nine products.

# %%
import numpy as np

import convscope as cs
from convscope.lessons import run_lab

run_lab("sobel_lab")

# %% [markdown]
# The lesson prints `[[-3, 1, 1], [5, 1, -3], [-5, 1, 3]]`, but its own program, SciPy and
# torch all give the numbers above. Check it yourself with SciPy:

# %%
from scipy import ndimage

grid = np.array([[1, 2, 3, 0, 1], [0, 1, 2, 3, 4], [2, 1, 0, 1, 2], [3, 0, 1, 2, 3], [1, 2, 3, 4, 0]], dtype=float)
sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
ndimage.correlate(grid, sobel_x)[1:-1, 1:-1]

# %% [markdown]
# Step through the nine products of each output cell:

# %%
from convscope.widgets import Stepper

Stepper(grid, sobel_x)
