# %% [markdown]
# # Lab 8: the NumPy layer (seed 003)
#
# A valid 3x3 convolution takes 28x28 to 26x26: the kernel's centre can't reach the one-pixel
# frame. The same code gives the 5x5 Sobel grid's 3x3 answer again.

# %%
import convscope as cs
from convscope.lessons import run_lab

run_lab("numpy_lab")

# %%
cs.explain_output_size(28, 3)

# %% [markdown]
# With `padding=1` (PyTorch's `padding="same"` for a 3x3 kernel) the size is kept:

# %%
cs.explain_output_size(28, 3, padding="same")
