# %% [markdown]
# # Lab 6: a hand-set CNN finds edges (seed 000)
#
# The lesson's SimpleCNN has one convolution whose kernel is set by hand to a horizontal-edge
# detector. On a ring, it answers positive on the top edge and negative on the bottom edge.

# %%
import numpy as np

import convscope as cs
from convscope.lessons import run_lab

run_lab("simple_cnn_lab")

# %% [markdown]
# The same kernel on a real photo: bright below dark gives one sign, dark below bright the
# other. The map is drawn centred on grey, with its range.

# %%
from convscope import filters
from convscope.images import sample

filters.show(sample("camera"), "sobel_y")
