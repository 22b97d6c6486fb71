# %% [markdown]
# # Lab 9: the lesson's widget (seed 003)
#
# A vertical-edge kernel on a 7x7 diamond. The lab prints the input, the kernel, the 5x5 output
# and the nine products of `output[0][0]`.

# %%
import numpy as np

from convscope.lessons import run_lab

run_lab("widget_lab")

# %% [markdown]
# The widget itself: step or play, and watch each window's products and sum.

# %%
from convscope.widgets import Stepper

diamond = np.array([[0, 0, 0, 1, 0, 0, 0],
                    [0, 0, 1, 1, 1, 0, 0],
                    [0, 1, 1, 0, 1, 1, 0],
                    [1, 1, 0, 0, 0, 1, 1],
                    [0, 1, 1, 0, 1, 1, 0],
                    [0, 0, 1, 1, 1, 0, 0],
                    [0, 0, 0, 1, 0, 0, 0]], dtype=np.float32)
vertical_edge = np.array([[-1, 0, 1]] * 3, dtype=np.float32)
Stepper(diamond, vertical_edge)
