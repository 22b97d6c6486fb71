"""Which error a snippet raises (and its fix), and the concept questions with their reasons."""

from __future__ import annotations

import random

from .model import Question, assemble

# kind -> (what is wrong and the fix): the choices of an error question
DIAGNOSES = {
    "channels_last": "the image is channels-last (N, H, W, C); fix: x.permute(0, 3, 1, 2)",
    "channel_mismatch": "in_channels does not match the input's channels; fix: build the layer with the input's "
                        "channel count",
    "kernel_layout": "the kernel is in TensorFlow's (kH, kW, in, out) order; fix: w.permute(3, 2, 0, 1)",
    "missing_axes": "the input has no batch or channel axis; fix: x[None, None] (or x.unsqueeze(0).unsqueeze(0))",
    "linear_features": "Linear's in_features does not match what Flatten produces; fix: use the flattened size",
    "none": "nothing: it runs",
}


def error_snippet(rng: random.Random, difficulty: str) -> Question:
    """A short torch program; which mistake makes it fail, and the fix. ``facts['code']`` runs it."""
    kinds = ["channels_last", "channel_mismatch", "missing_axes"] if difficulty == "easy" else \
        ["channels_last", "channel_mismatch", "kernel_layout", "missing_axes", "linear_features"]
    kind = rng.choice(kinds)
    n, c, side, out = rng.choice([1, 4, 8]), rng.choice([1, 3]), rng.choice([28, 32]), rng.choice([8, 16, 32])
    k = rng.choice([3, 5])
    if kind == "channels_last":
        c = 3
        code = f"x = torch.randn({n}, {side}, {side}, {c})\nconv = nn.Conv2d({c}, {out}, {k})\ny = conv(x)"
        fixed = code.replace("y = conv(x)", "y = conv(x.permute(0, 3, 1, 2))")
    elif kind == "channel_mismatch":
        wrong = 3 if c == 1 else 1
        code = f"x = torch.randn({n}, {c}, {side}, {side})\nconv = nn.Conv2d({wrong}, {out}, {k})\ny = conv(x)"
        fixed = code.replace(f"nn.Conv2d({wrong},", f"nn.Conv2d({c},")
    elif kind == "kernel_layout":
        # k != c, or torch would read (k, k, c, out) as (out=k, in=k, kH=c, kW=out) and run, silently wrong
        c, k = 3, rng.choice([5, 7])
        code = (f"x = torch.randn({n}, {c}, {side}, {side})\nw = torch.randn({k}, {k}, {c}, {out})  # exported from "
                f"Keras\ny = F.conv2d(x, w)")
        fixed = code.replace("F.conv2d(x, w)", "F.conv2d(x, w.permute(3, 2, 0, 1))")
    elif kind == "missing_axes":
        code = f"x = torch.randn({side}, {side})  # one grey image\nconv = nn.Conv2d(1, {out}, {k})\ny = conv(x)"
        fixed = code.replace("y = conv(x)", "y = conv(x[None, None])")
    else:
        wrong_side = side - k + 1 + rng.choice([-1, 1, 2])
        code = (f"x = torch.randn({n}, 1, {side}, {side})\n"
                f"model = nn.Sequential(nn.Conv2d(1, {out}, {k}), nn.Flatten(), "
                f"nn.Linear({out} * {wrong_side} * {wrong_side}, 10))\ny = model(x)")
        right = side - k + 1
        fixed = code.replace(f"{wrong_side} * {wrong_side}", f"{right} * {right}")
    others = [(DIAGNOSES[other], "it does not run: torch raises" if other == "none" else
               f"not this snippet's problem (no {other.replace('_', ' ')} here)")
              for other in rng.sample([d for d in DIAGNOSES if d != kind], len(DIAGNOSES) - 1)]
    return assemble(rng, f"This snippet fails (import torch; from torch import nn; import torch.nn.functional as F):\n"
                    f"{code}\nWhat is wrong, and what fixes it?", DIAGNOSES[kind], others,
                    f"Run it and torch refuses; the fixed line:\n{fixed}", difficulty, "error_snippet",
                    {"kind": kind, "code": code, "fixed": fixed})


# (difficulty, question, answer, wrong answers, explanation)
CONCEPTS = [
    ("easy", "Sliding the same kernel over every position of an image is called...", "weight sharing",
     ["dropout", "pooling", "batch normalisation"],
     "One set of weights is reused at every position: a 3x3 kernel has 9 weights whatever the image size."),
    ("easy", "What does a max-pooling layer with kernel 2 and stride 2 do to a 32x32 feature map?",
     "keeps the largest value of each 2x2 block, giving 16x16",
     ["averages every pixel with its neighbours, keeping 32x32", "learns 4 weights per channel",
      "mixes the channels together, keeping 32x32"],
     "Pooling has no weights; it summarises each window (here the max) and the stride halves each side."),
    ("easy", "Why does a CNN add zero padding around its input?", "so the output can keep the input's size and "
     "border pixels are seen as often as others", ["to add more trainable parameters", "to make the image brighter",
                                                   "to make training deterministic"],
     "A 3x3 window without padding shrinks each side by 2; padding 1 keeps the size (out = in + 2 - 3 + 1)."),
    ("medium", "Shift an image right by 4 pixels and apply a stride-1 convolution. The output...",
     "shifts right by 4 pixels as well (equivariance), away from the borders",
     ["stays exactly the same (invariance)", "is rotated", "becomes 4 pixels smaller"],
     "Convolution commutes with translation: conv(shift(x)) = shift(conv(x)), except where the padding enters."),
    ("medium", "Which part of a typical CNN makes its *prediction* tolerant of small shifts?",
     "pooling and the final global pooling, which summarise over positions",
     ["the convolution alone, which is shift-invariant", "the bias terms", "the ReLU activations"],
     "Convolutions are equivariant (the map moves); pooling over positions turns that into invariance."),
    ("medium", "What does nn.Flatten() throw away before a Linear layer?",
     "the arrangement of the values in space: the Linear treats each position as an unrelated input",
     ["the channel values", "half of the values", "nothing about the values or their order"],
     "Flatten keeps every number but the Linear gets no notion of which pixels are neighbours; shuffling the "
     "pixels the same way for every image would not change what an MLP can learn."),
    ("medium", "How does the number of weights of nn.Conv2d(3, 16, 3) change when the input grows from 32x32 to "
     "224x224?", "it does not change: 16*3*3*3 + 16 = 448",
     ["it grows with the number of pixels", "it grows with the output's size", "it doubles"],
     "The kernel is shared over positions, so its size depends on channels and kernel size only."),
    ("hard", "A CNN trained on upright digits sees them rotated by 90 degrees. What should you expect?",
     "accuracy drops: convolution is equivariant to shifts, not to rotations",
     ["no change: convolutions are rotation invariant", "no change, thanks to max pooling",
      "accuracy improves, since edges become vertical"],
     "Kernels detect oriented patterns; rotating the input moves features to other kernels. Rotation robustness "
     "comes from data augmentation or special architectures."),
    ("hard", "Why do deep CNNs see large objects even though every kernel is 3x3?",
     "each layer adds (k-1)*jump to the receptive field, and strides and pooling multiply the jump",
     ["because 3x3 kernels look at the whole image", "because of the bias terms",
      "because Flatten connects every pixel to every kernel"],
     "Receptive fields grow with depth: two 3x3 layers see 5x5, three see 7x7, faster after strided layers."),
    ("hard", "What can a 1x1 convolution do?", "mix the channels at each position (a per-pixel linear layer)",
     ["nothing: it is the identity", "blur the image", "detect edges"],
     "A 1x1 kernel multiplies the C input values of one position by a CxC_out matrix: channel mixing."),
    ("hard", "Doubling an object's size in the image: what happens to a CNN's filters' responses?",
     "they change: convolution is not scale invariant; the same edges appear at another spacing",
     ["nothing: CNNs are scale invariant", "they are halved", "they move to other channels in a fixed way"],
     "Scale robustness comes from pooling hierarchies, multi-scale training or image pyramids, not from the "
     "convolution itself."),
    ("hard", "Why does stride 2 break translation equivariance for a shift of 1 pixel?",
     "the output samples every second position, so a 1-pixel shift falls between output samples",
     ["it does not break it", "because stride adds padding", "because the kernel is flipped"],
     "With stride s only shifts by multiples of s move the output cleanly (aliasing otherwise)."),
]


def concept(rng: random.Random, difficulty: str) -> Question:
    bank = [c for c in CONCEPTS if c[0] == difficulty]
    level, question, answer, wrong, explanation = rng.choice(bank)
    return assemble(rng, question, answer, [(w, "a common misconception") for w in wrong], explanation, level,
                    "concept", {})
