# %% [markdown]
# # The Sobel exercise (seed 003)
#
# Part 1: a `Conv2d(1, 2, 3, padding=1, bias=False)` with the Sobel-x and Sobel-y kernels set
# by hand, on a real photo, compared with SciPy. Part 2: start from random weights and learn
# Sobel back by gradient descent, with convscope's own backward pass and with torch's.

# %%
import numpy as np

from convscope import filters
from convscope.images import sample
from convscope.lessons.sobel_exercise import hand_set, run_exercise

camera = sample("camera")
filters.show(camera, "sobel_x")

# %% [markdown]
# Part 1. Inside the image the two agree to float precision. On the one-pixel frame they differ:
# Conv2d pads with zeros, `ndimage.sobel` mirrors the border.

# %%
hand = hand_set(camera[::4, ::4])
for line in hand.lines():
    print(line)

# %% [markdown]
# Part 2. 300 Adam steps from random weights. The engine's and torch's loss curves should
# coincide, and the learned kernel should be Sobel again.

# %%
result = run_exercise(camera[::8, ::8], steps=300)
for line in result.report("camera, every 8th pixel")[-9:]:
    print(line)

# %% [markdown]
# Part 3, the lesson's bonus: start *from* Sobel and train on an edge task (find the clean photo's
# Sobel edges in a noisy copy). What does the network find that Sobel missed?

# %%
from convscope.lessons.sobel_exercise import bonus

extra = bonus(camera[::8, ::8], steps=300)
for line in extra.lines():
    print(line)

# %% [markdown]
# Try other kernels on the same photo:

# %%
from convscope.widgets import Gallery

Gallery(camera)
